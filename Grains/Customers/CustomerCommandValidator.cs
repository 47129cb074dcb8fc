using System.Text;
using OrderFlow.Customers.Commands;
using OrderFlow.Grains.Orders;
using OrderFlow.Grains.Validation;

namespace OrderFlow.Grains.Customers;

/// <summary>
/// The field rules of every customer command (API.md "Customers"), independent of the customer's
/// state, worded as for orders (<see cref="OrderCommandValidator"/>). Errors are keyed by the JSON
/// path of the field, camelCase, as the client sent it.
/// </summary>
public static class CustomerCommandValidator
{
    /// <summary>The longest address SMTP can carry (RFC 5321: a 256-octet path less its angle brackets).</summary>
    public const int MaxEmailLength = 254;

    /// <summary>The longest local part (before '@') RFC 5321 allows.</summary>
    public const int MaxEmailLocalPartLength = 64;

    /// <summary>The longest DNS label.</summary>
    public const int MaxDomainLabelLength = 63;

    public const string EmailRule =
        "must be an email address such as ada@example.com: at most 64 characters of letters, digits, '.' and !#$%&'*+/=?^_`{|}~- before one '@', "
        + "then a domain name of at least two labels (letters, digits, inner '-')";

    public const string BlankWhenGivenRule = "must not be blank when given (leave it out to keep it as it is)";

    public const string ProfileChangeRule = "must change at least one of name, email or country";

    public static Dictionary<string, string[]> Validate(CustomerCommand command, DateTimeOffset now)
    {
        var errors = new FieldErrors();
        switch (command)
        {
            case RegisterCustomer register:
                errors.Id("customerId", register.CustomerId);
                errors.Text("name", register.Name);
                Email(errors, register.Email);
                errors.Country("country", register.Country);
                break;
            case ChangeCustomerProfile change:
                if (change is { Name: null, Email: null, Country: null })
                {
                    errors.Add("$", ProfileChangeRule);
                }

                // Optional members: "is required" would mislead; a blank one is left out, not sent blank.
                if (string.IsNullOrWhiteSpace(change.Name))
                {
                    AddIfBlank(errors, "name", change.Name);
                }
                else
                {
                    errors.Text("name", change.Name);
                }

                if (string.IsNullOrWhiteSpace(change.Email))
                {
                    AddIfBlank(errors, "email", change.Email);
                }
                else
                {
                    Email(errors, change.Email);
                }

                if (string.IsNullOrWhiteSpace(change.Country))
                {
                    AddIfBlank(errors, "country", change.Country);
                }
                else
                {
                    errors.Country("country", change.Country);
                }

                break;
            case ErasePersonalData erase:
                // Filled in by the API from the authenticated caller, never by the client: an error here is the server's.
                errors.Text("erasedBy", erase.ErasedBy);
                break;
            default:
                errors.Add("$", $"unknown command {command.GetType().Name}");
                break;
        }

        errors.EventTime("occurredAt", command.OccurredAt, now);
        return errors.ToDictionary();
    }

    /// <summary>
    /// A sane address, not every form RFC 5322 allows: a dot-atom local part (no quoted strings,
    /// no comments, no IP literals) and a domain of letter-digit-hyphen labels. Letters may be
    /// non-ASCII (RFC 6531 addresses and internationalised domain names).
    /// </summary>
    public static bool IsValidEmail(string? email)
    {
        if (email is null || email.Length > MaxEmailLength)
        {
            return false;
        }

        var at = email.IndexOf('@', StringComparison.Ordinal);
        if (at < 1 || at > MaxEmailLocalPartLength || email.IndexOf('@', at + 1) >= 0)
        {
            return false;
        }

        var local = email.AsSpan(0, at);
        if (local[0] == '.' || local[^1] == '.' || local.IndexOf("..", StringComparison.Ordinal) >= 0)
        {
            return false;
        }

        if (!IsWellFormed(local, "!#$%&'*+-/=?^_`{|}~."))
        {
            return false;
        }

        var labels = email[(at + 1)..].Split('.');
        if (labels.Length < 2 || labels[^1].All(char.IsAsciiDigit))
        {
            return false;
        }

        return labels.All(label =>
            label.Length is > 0 and <= MaxDomainLabelLength
            && label[0] != '-' && label[^1] != '-'
            && IsWellFormed(label, "-"));
    }

    /// <summary>
    /// Combining marks in a row after a letter: the limit of Unicode's stream-safe text (UAX #15),
    /// which no script needs more of, so that a letter cannot carry an unbounded pile of them.
    /// </summary>
    private const int MaxCombiningMarksInARow = 30;

    /// <summary>
    /// Letters and digits by Unicode scalar value (one beyond the Basic Multilingual Plane is two
    /// UTF-16 units, neither a letter alone), the ASCII <paramref name="symbols"/>, and combining
    /// marks on a letter or digit (Devanagari, Thai and decomposed accents write letters with them),
    /// never on a symbol or at the start, and at most <see cref="MaxCombiningMarksInARow"/> together.
    /// </summary>
    private static bool IsWellFormed(ReadOnlySpan<char> text, string symbols)
    {
        var marks = -1; // marks since the last letter or digit; -1: none to carry them
        foreach (var rune in text.EnumerateRunes())
        {
            if (Rune.IsLetterOrDigit(rune))
            {
                marks = 0;
            }
            else if (Rune.GetUnicodeCategory(rune) is System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.SpacingCombiningMark)
            {
                if (marks < 0 || ++marks > MaxCombiningMarksInARow)
                {
                    return false;
                }
            }
            else if (rune.IsAscii && symbols.Contains((char)rune.Value, StringComparison.Ordinal))
            {
                marks = -1;
            }
            else
            {
                return false;
            }
        }

        return true;
    }

    private static void AddIfBlank(FieldErrors errors, string field, string? value)
    {
        if (value is not null)
        {
            errors.Add(field, BlankWhenGivenRule);
        }
    }

    private static void Email(FieldErrors errors, string? email)
    {
        if (string.IsNullOrEmpty(email))
        {
            errors.Add("email", "is required");
        }
        else if (email.Length > MaxEmailLength)
        {
            errors.Add("email", $"must be at most {MaxEmailLength} characters");
        }
        else if (!IsValidEmail(email))
        {
            errors.Add("email", EmailRule);
        }
    }
}
