using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using EgressWebhook.Core.Admission;

namespace EgressWebhook.Server.Endpoints;

/// <summary>A request body read and parsed, or why not: the HTTP status and a one-line reason.</summary>
internal readonly record struct ParsedBody(AdmissionReview? Review, int StatusCode, string Reason)
{
    /// <summary>The body's length in bytes, once read.</summary>
    public long Length { get; init; }

    /// <summary>The review's place among the large reviews being decided (<see cref="LargeReviewGate"/>): held until it
    /// is answered; when <see cref="LargeReviewGate.Entry.Waited"/>, the review was read without its objects, to be
    /// answered undecided.</summary>
    public LargeReviewGate.Entry Entry { get; init; }

    /// <summary>The client went away; nothing to answer.</summary>
    public bool Aborted => StatusCode == 0 && Review is null;

    public static ParsedBody Refuse(int statusCode, string reason) => new(null, statusCode, reason);
}

/// <summary>Reads an AdmissionReview from the request body (at most 3 MiB, within the deadline), parses it once
/// with the source-generated context (from Kestrel's buffer, or from one copy when the body spans several), and
/// writes the answer.</summary>
internal static class AdmissionBody
{
    /// <summary>Kubernetes caps an object at 3 MiB (etcd's limit is 1.5 MiB; reviews carry object and oldObject).</summary>
    public const int MaxBytes = 3 * 1024 * 1024;

    /// <summary>The API server's default webhook timeout, when the request does not say.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The part of a request's budget a large review does not spend waiting for its turn
    /// (<see cref="LargeReviewGate"/>): a fifth, at most a second, to parse its envelope and answer per the failure mode.</summary>
    public static TimeSpan WaitReserve(TimeSpan budget) => TimeSpan.FromTicks(Math.Min(budget.Ticks / 5, TimeSpan.TicksPerSecond));

    /// <summary>The review without <c>request.object</c> and <c>request.oldObject</c>: their values are skipped, so no
    /// document is built for them.</summary>
    internal static readonly JsonTypeInfo<AdmissionReview> EnvelopeInfo = (JsonTypeInfo<AdmissionReview>)new JsonSerializerOptions(AdmissionJsonContext.Default.Options)
    {
        TypeInfoResolver = AdmissionJsonContext.Default.WithAddedModifier(static type =>
        {
            if (type.Type == typeof(AdmissionRequest))
            {
                foreach (var property in type.Properties)
                {
                    if (property.Name is "object" or "oldObject")
                    {
                        property.CustomConverter = SkippedElement.Instance;
                    }
                }
            }
        }),
    }.GetTypeInfo(typeof(AdmissionReview));

    /// <summary>Bodies up to this are copied into a pooled buffer, larger ones into one of their own.</summary>
    private const int PooledBytes = 256 * 1024;

    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 128 };

    /// <summary>Reads and parses the body. A large one then waits for its turn at <paramref name="gate"/> until
    /// <paramref name="wait"/> is cancelled; if it is, only the review's envelope is parsed (no objects: a pass over
    /// the bytes, no document), so that it can be answered undecided.</summary>
    public static async ValueTask<ParsedBody> ReadAsync(HttpRequest request, LargeReviewGate? gate, CancellationToken wait, CancellationToken deadline)
    {
        if (request.ContentLength > MaxBytes)
        {
            return ParsedBody.Refuse(StatusCodes.Status413PayloadTooLarge, $"request body of {request.ContentLength} bytes is over the {MaxBytes} byte limit");
        }

        var reader = request.BodyReader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(deadline).ConfigureAwait(false);
                var buffer = result.Buffer;
                if (buffer.Length > MaxBytes)
                {
                    reader.AdvanceTo(buffer.End);
                    return ParsedBody.Refuse(StatusCodes.Status413PayloadTooLarge, $"request body is over the {MaxBytes} byte limit");
                }

                if (result.IsCompleted)
                {
                    var entry = gate is null ? default : await gate.EnterAsync(buffer.Length, wait).ConfigureAwait(false);
                    try
                    {
                        // the envelope is read in place: no 3 MiB copy for a review that will not be decided
                        var parsed = entry.Waited ? ParseInPlace(buffer, EnvelopeInfo) : Parse(buffer, AdmissionJsonContext.Default.AdmissionReview);
                        reader.AdvanceTo(buffer.End);
                        return parsed with { Entry = entry, Length = buffer.Length };
                    }
                    catch
                    {
                        entry.Dispose();
                        throw;
                    }
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (OperationCanceledException) when (!request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            return ParsedBody.Refuse(StatusCodes.Status408RequestTimeout, "request body not received within the timeout");
        }
        catch (OperationCanceledException)
        {
            return default;
        }
        catch (BadHttpRequestException ex)
        {
            return ParsedBody.Refuse(ex.StatusCode, OneLine(ex.Message));
        }
        catch (IOException)
        {
            return default;
        }
    }

    /// <summary>Parses an AdmissionReview; anything else is a 400 with a one-line reason.</summary>
    /// <remarks>A body in several of Kestrel's segments (any body over a few KB) is copied into one buffer first:
    /// the reader is 1.1–2.5× slower across segments than over one span on 3 MiB reviews (docs/benchmarks.md), and a
    /// copy costs about a millisecond. Nothing parsed refers to the buffer afterwards: strings are copied, and a
    /// <see cref="JsonElement"/> owns a copy of its bytes.</remarks>
    internal static ParsedBody Parse(ReadOnlySequence<byte> body) => Parse(body, AdmissionJsonContext.Default.AdmissionReview);

    private static ParsedBody Parse(ReadOnlySequence<byte> body, JsonTypeInfo<AdmissionReview> info)
    {
        if (body.IsSingleSegment)
        {
            return Parse(body.FirstSpan, info);
        }

        // a large body's buffer is not pooled: the shared pool would keep a 4 MiB array per thread and core, which a
        // 288 MiB heap (a 384 Mi pod) cannot spare; it is garbage once parsed
        var length = checked((int)body.Length);
        if (length > PooledBytes)
        {
            var once = GC.AllocateUninitializedArray<byte>(length);
            body.CopyTo(once);
            return Parse(once.AsSpan(), info);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            body.CopyTo(buffer);
            return Parse(buffer.AsSpan(0, length), info);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static ParsedBody Parse(ReadOnlySpan<byte> body, JsonTypeInfo<AdmissionReview> info) =>
        Parse(new Utf8JsonReader(body, ReaderOptions), info);

    private static ParsedBody ParseInPlace(ReadOnlySequence<byte> body, JsonTypeInfo<AdmissionReview> info) =>
        Parse(new Utf8JsonReader(body, ReaderOptions), info);

    private static ParsedBody Parse(Utf8JsonReader json, JsonTypeInfo<AdmissionReview> info)
    {
        AdmissionReview? review;
        try
        {
            review = JsonSerializer.Deserialize(ref json, info);
            if (json.Read())
            {
                return ParsedBody.Refuse(StatusCodes.Status400BadRequest, "body has data after the AdmissionReview");
            }
        }
        catch (JsonException ex)
        {
            return ParsedBody.Refuse(StatusCodes.Status400BadRequest, Describe(ex));
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or OverflowException or ArgumentException or NotSupportedException)
        {
            return ParsedBody.Refuse(StatusCodes.Status400BadRequest, $"body is not an AdmissionReview: {OneLine(ex.Message)}");
        }

        if (review is null)
        {
            return ParsedBody.Refuse(StatusCodes.Status400BadRequest, "body is not an AdmissionReview: it is null");
        }

        if (!review.IsSupportedVersion)
        {
            return ParsedBody.Refuse(StatusCodes.Status400BadRequest,
                $"body is not an AdmissionReview: apiVersion '{Short(review.ApiVersion)}', kind '{Short(review.Kind)}' (expected {AdmissionReview.V1} or {AdmissionReview.V1Beta1} {AdmissionReview.KindName})");
        }

        if (review.Request is not { } request)
        {
            return ParsedBody.Refuse(StatusCodes.Status400BadRequest, "AdmissionReview has no request");
        }

        if (string.IsNullOrEmpty(request.Uid))
        {
            return ParsedBody.Refuse(StatusCodes.Status400BadRequest, "AdmissionReview request.uid is missing");
        }

        return new ParsedBody(review, StatusCodes.Status200OK, "");
    }

    public static Task WriteAsync(HttpResponse response, AdmissionReview review)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(review, AdmissionJsonContext.Default.AdmissionReview);
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        response.ContentLength = bytes.Length;
        return response.Body.WriteAsync(bytes, 0, bytes.Length, response.HttpContext.RequestAborted);
    }

    public static Task WriteErrorAsync(HttpResponse response, int statusCode, string reason)
    {
        response.StatusCode = statusCode;
        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync(reason + "\n", response.HttpContext.RequestAborted);
    }

    /// <summary>The time the answer must be given in: the API server's <c>timeout</c> query parameter (a Go duration,
    /// <c>10s</c>) less a margin for the trip back, or 10 s.</summary>
    public static TimeSpan Budget(string? timeout)
    {
        var total = ParseGoDuration(timeout) is { } t && t > TimeSpan.Zero ? t : DefaultTimeout;
        if (total > TimeSpan.FromSeconds(30))
        {
            total = TimeSpan.FromSeconds(30);
        }

        var margin = TimeSpan.FromTicks(Math.Min(total.Ticks / 4, TimeSpan.FromMilliseconds(250).Ticks));
        return total - margin;
    }

    /// <summary>Go's <c>time.Duration</c> text: <c>10s</c>, <c>1m30s</c>, <c>500ms</c>; null when it is not one.</summary>
    internal static TimeSpan? ParseGoDuration(string? text)
    {
        if (string.IsNullOrEmpty(text) || text.Length > 64)
        {
            return null;
        }

        var span = text.AsSpan();
        var total = 0.0;
        while (!span.IsEmpty)
        {
            var n = 0;
            while (n < span.Length && (char.IsAsciiDigit(span[n]) || span[n] == '.'))
            {
                n++;
            }

            if (n == 0 || !double.TryParse(span[..n], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            {
                return null;
            }

            span = span[n..];
            var u = 0;
            while (u < span.Length && !char.IsAsciiDigit(span[u]))
            {
                u++;
            }

            double? unit = span[..u] switch
            {
                "h" => 3600_000,
                "m" => 60_000,
                "s" => 1000,
                "ms" => 1,
                "us" or "µs" => 0.001,
                "ns" => 0.000001,
                _ => null,
            };
            if (unit is null)
            {
                return null;
            }

            total += value * unit.Value;
            span = span[u..];
        }

        return total > TimeSpan.MaxValue.TotalMilliseconds / 2 ? null : TimeSpan.FromMilliseconds(total);
    }

    private static string Describe(JsonException ex)
    {
        var path = ex.Path is null or "$" ? "" : ex.Path.StartsWith("$.", StringComparison.Ordinal) ? ex.Path[2..] : ex.Path;
        if (ex.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal) && path.Length > 0)
        {
            return $"body is not an AdmissionReview: {Short(path)} has the wrong type";
        }

        return $"body is not valid JSON: {OneLine(ex.Message)}";
    }

    private static string Short(string? s) => s is null ? "" : s.Length <= 64 ? OneLine(s) : OneLine(s[..63]) + "…";

    private static string OneLine(string s)
    {
        var i = s.IndexOfAny(['\r', '\n']);
        var line = i < 0 ? s : s[..i];
        return line.Length <= 300 ? line : line[..299] + "…";
    }
}

/// <summary>Reads past a value and gives null (<see cref="AdmissionBody.EnvelopeInfo"/>).</summary>
internal sealed class SkippedElement : System.Text.Json.Serialization.JsonConverter<JsonElement?>
{
    public static readonly SkippedElement Instance = new();

    public override bool HandleNull => true;

    public override JsonElement? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        reader.Skip();
        return null;
    }

    public override void Write(Utf8JsonWriter writer, JsonElement? value, JsonSerializerOptions options) => throw new NotSupportedException();
}
