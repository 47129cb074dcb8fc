using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Net.Http.Headers;

namespace OrderFlow.Api.Errors;

/// <summary>
/// Refuses a body that its endpoint reads as JSON, declared in a charset other than UTF-8, with a
/// 415 problem document before the endpoint reads it: JSON between systems is UTF-8 (RFC 8259), and the framework's reader throws
/// on a charset it does not know (a 500). A quoted <c>charset="utf-8"</c>, which HTTP allows but
/// the reader does not understand, is passed on unquoted.
/// </summary>
public sealed class JsonCharset(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (RequestBodyLimit.HasBody(request) && context.GetEndpoint()?.Metadata.GetMetadata<IAcceptsMetadata>() is not null && request.ContentType is { } contentType && MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
            && mediaType.Parameters.FirstOrDefault(parameter => parameter.Name.Equals("charset", StringComparison.OrdinalIgnoreCase)) is { } charset)
        {
            var value = HeaderUtilities.RemoveQuotes(charset.Value);
            if (!value.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
            {
                return Problems.WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                    $"The body is declared as charset '{value}'; send JSON in UTF-8, with Content-Type: application/json (or charset=utf-8).", "unsupported-media-type");
            }

            if (value.Length != charset.Value.Length)
            {
                charset.Value = "utf-8";
                request.ContentType = mediaType.ToString();
            }
        }

        return next(context);
    }
}
