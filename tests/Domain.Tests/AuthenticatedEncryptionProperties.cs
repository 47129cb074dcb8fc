using System.Security.Cryptography;
using CsCheck;
using OrderFlow.Grains.PersonalData;

namespace OrderFlow.Domain.Tests;

/// <summary>
/// The one AES-GCM layout that sealed fields and wrapped subject keys share: what it seals opens
/// with the same key and associated data, and nothing else does (see <c>Grains.Tests</c>'
/// <c>BeforeKeyIdsTests</c> and <c>KeyEncryptionKeyTests</c> for values stored by earlier builds).
/// </summary>
public sealed class AuthenticatedEncryptionProperties
{
    private static readonly Gen<byte[]> Key = Gen.Byte.Array[32];
    private static readonly Gen<byte[]> Plaintext = Gen.Byte.Array[0, 300];
    private static readonly Gen<byte[]> AssociatedData = Gen.Byte.Array[0, 80];

    [Fact]
    public void What_is_sealed_opens_with_its_key_and_associated_data()
    {
        Gen.Select(Key, Plaintext, AssociatedData).Sample((key, plaintext, associatedData) =>
        {
            var sealedBytes = AuthenticatedEncryption.Seal(key, plaintext, associatedData);

            Assert.Equal(plaintext.Length + AuthenticatedEncryption.Overhead, sealedBytes.Length);
            Assert.Equal(plaintext, AuthenticatedEncryption.Open(key, sealedBytes, associatedData));
        }, iter: 2_000);
    }

    [Fact]
    public void Any_flipped_bit_fails_to_open()
    {
        Gen.Select(Key, Plaintext, AssociatedData, Gen.Int[0, int.MaxValue], Gen.Byte[1, 255]).Sample((key, plaintext, associatedData, position, flip) =>
        {
            var sealedBytes = AuthenticatedEncryption.Seal(key, plaintext, associatedData);
            sealedBytes[position % sealedBytes.Length] ^= flip;

            Assert.Throws<AuthenticationTagMismatchException>(() => AuthenticatedEncryption.Open(key, sealedBytes, associatedData));
        }, iter: 2_000);
    }

    [Fact]
    public void Other_associated_data_or_another_key_fails_to_open()
    {
        Gen.Select(Key, Key, Plaintext, AssociatedData, AssociatedData).Sample((key, otherKey, plaintext, associatedData, otherAssociatedData) =>
        {
            var sealedBytes = AuthenticatedEncryption.Seal(key, plaintext, associatedData);

            if (!otherAssociatedData.AsSpan().SequenceEqual(associatedData))
            {
                Assert.Throws<AuthenticationTagMismatchException>(() => AuthenticatedEncryption.Open(key, sealedBytes, otherAssociatedData));
            }

            if (!otherKey.AsSpan().SequenceEqual(key))
            {
                Assert.Throws<AuthenticationTagMismatchException>(() => AuthenticatedEncryption.Open(otherKey, sealedBytes, associatedData));
            }
        }, iter: 2_000);
    }

    [Fact]
    public void Any_truncation_fails_to_open()
    {
        Gen.Select(Key, Plaintext, AssociatedData, Gen.Int[0, int.MaxValue]).Sample((key, plaintext, associatedData, cut) =>
        {
            var sealedBytes = AuthenticatedEncryption.Seal(key, plaintext, associatedData);
            var truncated = sealedBytes[..(cut % sealedBytes.Length)];

            Assert.Equal(truncated.Length < AuthenticatedEncryption.Overhead, AuthenticatedEncryption.IsTruncated(truncated));
            Assert.Throws<AuthenticationTagMismatchException>(() => AuthenticatedEncryption.Open(key, truncated, associatedData));
        }, iter: 2_000);
    }

    /// <summary>The stored layout, read without <see cref="AuthenticatedEncryption.Open"/>: a 12-byte nonce, the ciphertext, a 16-byte tag.</summary>
    [Fact]
    public void The_layout_is_nonce_then_ciphertext_then_tag()
    {
        Gen.Select(Key, Plaintext, AssociatedData).Sample((key, plaintext, associatedData) =>
        {
            var sealedBytes = AuthenticatedEncryption.Seal(key, plaintext, associatedData);
            var opened = new byte[plaintext.Length];
            using var aes = new AesGcm(key, 16);
            aes.Decrypt(sealedBytes.AsSpan(0, 12), sealedBytes.AsSpan(12, plaintext.Length), sealedBytes.AsSpan(12 + plaintext.Length), opened, associatedData);

            Assert.Equal(16, sealedBytes.Length - 12 - plaintext.Length);
            Assert.Equal(plaintext, opened);
        }, iter: 200);
    }

    [Fact]
    public void Two_seals_of_the_same_plaintext_differ()
    {
        Gen.Select(Key, Plaintext).Sample((key, plaintext) =>
            Assert.NotEqual(AuthenticatedEncryption.Seal(key, plaintext, []), AuthenticatedEncryption.Seal(key, plaintext, [])), iter: 200);
    }
}
