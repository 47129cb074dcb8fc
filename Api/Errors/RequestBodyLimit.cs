using System.Globalization;

namespace OrderFlow.Api.Errors;

/// <summary>
/// Refuses request bodies over <see cref="MaxBytes"/> with a 413 problem document before any
/// endpoint runs. The body is read into memory up to one byte past the limit, so a chunked upload
/// without Content-Length is measured too, and endpoints read a body that is known to fit.
/// </summary>
public sealed class RequestBodyLimit(RequestDelegate next)
{
    /// <summary>API.md: a body over 64 KiB is refused (413).</summary>
    public const int MaxBytes = 64 * 1024;

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.ContentLength > MaxBytes)
        {
            await RefuseAsync(context);
            return;
        }

        var mayHaveBody = HttpMethods.IsPost(request.Method) || HttpMethods.IsPut(request.Method) || HttpMethods.IsPatch(request.Method);
        if (mayHaveBody && request.ContentLength is not 0)
        {
            var body = new MemoryStream();
            var buffer = new byte[8192];
            int read;
            while ((read = await request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                if (body.Length + read > MaxBytes)
                {
                    await RefuseAsync(context);
                    return;
                }

                body.Write(buffer, 0, read);
            }

            body.Position = 0;
            request.Body = body;
            context.Response.RegisterForDispose(body);
        }

        await next(context);
    }

    private static Task RefuseAsync(HttpContext context) =>
        Problems.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "Request body too large",
            string.Create(CultureInfo.InvariantCulture, $"Request bodies may be at most {MaxBytes:N0} bytes."), "body-too-large");
}
