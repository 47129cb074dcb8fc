using System.Buffers;
using System.Globalization;
using Microsoft.AspNetCore.Http.Features;

namespace OrderFlow.Api.Errors;

/// <summary>
/// Refuses request bodies over <see cref="MaxBytes"/> with a 413 problem document before any
/// endpoint runs. The body is read into memory up to one byte past the limit, so a chunked upload
/// without Content-Length is measured too, and endpoints read a body that is known to fit. It runs
/// after authorization, so that no body is read for a caller who may not send it.
/// </summary>
public sealed class RequestBodyLimit(RequestDelegate next)
{
    /// <summary>API.md: a body over 64 KiB is refused (413).</summary>
    public const int MaxBytes = 64 * 1024;

    private const int ReadSize = 8192;

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.ContentLength > MaxBytes)
        {
            await RefuseAsync(context);
            return;
        }

        if (HasBody(request))
        {
            var body = new MemoryStream(request.ContentLength is { } length ? (int)length : 0);
            var buffer = ArrayPool<byte>.Shared.Rent(ReadSize); // every command reads its body here: a buffer of its own each was most of what the read allocated
            try
            {
                int read;
                while (true)
                {
                    try
                    {
                        read = await request.Body.ReadAsync(buffer.AsMemory(0, ReadSize), context.RequestAborted);
                    }
                    catch (BadHttpRequestException)
                    {
                        throw; // Kestrel's own verdict on the request (400, 408, 413), answered by the exception handler
                    }
                    catch (IOException) when (!context.RequestAborted.IsCancellationRequested)
                    {
                        // Kestrel reports some framing errors, such as a chunk size that overflows, as plain I/O errors.
                        await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, "Bad request",
                            "The request body could not be read: its framing (chunk sizes or Content-Length) is malformed.", "bad-request");
                        return;
                    }

                    if (read == 0)
                    {
                        break;
                    }

                    if (body.Length + read > MaxBytes)
                    {
                        await RefuseAsync(context);
                        return;
                    }

                    body.Write(buffer, 0, read);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            body.Position = 0;
            request.Body = body;
            context.Response.RegisterForDispose(body);
            if (body.Length == 0)
            {
                // Chunked framing of no body (0\r\n\r\n) is no body: the endpoints decide by Kestrel's "can have body",
                // true for any chunked request, and read an empty one as JSON that ends early (400) or of no type (415).
                request.ContentLength = 0;
                context.Features.Set<IHttpRequestBodyDetectionFeature>(NoBody.Instance);
            }
        }

        await next(context);
    }

    /// <summary>A request whose method carries a body (the API's commands are POST) and that sends one, or may (chunked).</summary>
    public static bool HasBody(HttpRequest request) =>
        (HttpMethods.IsPost(request.Method) || HttpMethods.IsPut(request.Method) || HttpMethods.IsPatch(request.Method)) && request.ContentLength is not 0;

    private sealed class NoBody : IHttpRequestBodyDetectionFeature
    {
        public static readonly NoBody Instance = new();

        public bool CanHaveBody => false;
    }

    private static Task RefuseAsync(HttpContext context) =>
        Problems.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "Request body too large",
            string.Create(CultureInfo.InvariantCulture, $"Request bodies may be at most {MaxBytes:N0} bytes."), "body-too-large");
}
