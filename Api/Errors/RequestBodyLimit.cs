using System.Globalization;

namespace OrderFlow.Api.Errors;

/// <summary>
/// Refuses request bodies over <see cref="MaxBytes"/> with a 413 problem document before any
/// endpoint runs. Bodies are read into memory up to the limit, so a chunked upload without
/// Content-Length is measured too, and endpoints read a body that is known to fit.
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
            request.EnableBuffering(bufferThreshold: MaxBytes + 1, bufferLimit: MaxBytes + 1);
            var buffer = new byte[8192];
            long total = 0;
            int read;
            try
            {
                while ((read = await request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
                {
                    total += read;
                    if (total > MaxBytes)
                    {
                        await RefuseAsync(context);
                        return;
                    }
                }
            }
            catch (IOException) when (total >= MaxBytes)
            {
                await RefuseAsync(context);
                return;
            }

            request.Body.Position = 0;
        }

        await next(context);
    }

    private static Task RefuseAsync(HttpContext context) =>
        Problems.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "Request body too large",
            string.Create(CultureInfo.InvariantCulture, $"Request bodies may be at most {MaxBytes:N0} bytes."), "body-too-large");
}
