using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;
using OrderFlow.Api.Json;

namespace OrderFlow.Api.Errors;

/// <summary>
/// The problem document for a request the framework could not read: a body that is not this
/// request's JSON is a 400 validation problem with <c>errors</c> by JSON path, in plain words.
/// </summary>
public static class BadRequestProblems
{
    public static async Task WriteAsync(HttpContext context, BadHttpRequestException badRequest)
    {
        switch (badRequest)
        {
            case { StatusCode: StatusCodes.Status413PayloadTooLarge }:
                await Problems.WriteAsync(context, badRequest.StatusCode, "Request body too large", badRequest.Message, "body-too-large");
                break;
            case { StatusCode: StatusCodes.Status408RequestTimeout }:
                await Problems.WriteAsync(context, badRequest.StatusCode, "Request timeout", badRequest.Message, "request-timeout");
                break;
            case { StatusCode: StatusCodes.Status415UnsupportedMediaType }:
                await Problems.WriteAsync(context, badRequest.StatusCode, "Unsupported media type",
                    "Send the body as JSON with Content-Type: application/json.", "unsupported-media-type");
                break;
            case { InnerException: JsonException json }:
                // The exception handler has cleared the request's endpoint; the feature keeps it.
                var endpoint = context.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? context.GetEndpoint();
                var bodyType = endpoint?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType;
                var options = context.RequestServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
                await Problems.Validation(JsonBodyErrors.Describe(json, bodyType, options), "The request body is not valid JSON for this request.")
                    .ExecuteAsync(context);
                break;
            default:
                await Problems.WriteAsync(context, badRequest.StatusCode, "Bad request", badRequest.Message, "bad-request");
                break;
        }
    }
}
