using System.Buffers;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EgressWebhook.Core.Admission;
using EgressWebhook.Server.Endpoints;
using EgressWebhook.Server.Tests.Infrastructure;

namespace EgressWebhook.Server.Tests.Endpoints;

/// <summary>Generated bad bodies get 400 or 413, never a 5xx, and the server keeps answering correctly.</summary>
public sealed class MalformedBodyTests
{
    private const int MiB = 1024 * 1024;

    [Fact]
    public async Task Validate_GeneratedMalformedBodies_400Or413AndServerUnaffected()
    {
        await using var server = await WebhookServer.StartAsync();
        var bodies = Generate(new Random(20261125), 1100).ToList();
        var statuses = new System.Collections.Concurrent.ConcurrentBag<(string Kind, HttpStatusCode Status, string Reason)>();

        await Parallel.ForEachAsync(bodies, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (body, ct) =>
        {
            using var content = new ByteArrayContent(body.Bytes);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var response = await server.Client.PostAsync("/validate", content, ct);
            var reason = await response.Content.ReadAsStringAsync(ct);
            statuses.Add((body.Kind, response.StatusCode, reason));
        });

        Assert.Equal(bodies.Count, statuses.Count);
        var wrong = statuses.Where(s => s.Status is not (HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge)).ToList();
        Assert.True(wrong.Count == 0, string.Join("\n", wrong.Take(10).Select(w => $"{w.Kind}: {(int)w.Status} {w.Reason}")));
        Assert.All(statuses, s => Assert.DoesNotContain('\n', s.Reason.TrimEnd('\n')));
        Assert.All(statuses.Where(s => s.Kind == "huge-body"), s => Assert.Equal(HttpStatusCode.RequestEntityTooLarge, s.Status));

        var uid = Guid.NewGuid().ToString();
        var ok = await server.PostAsync(Reviews.Create("CREATE", Reviews.VirtualService("after"), uid: uid));
        AdmissionCases.AssertWellFormed(ok, uid, Reviews.V1);
        Assert.True(ok.Allowed);
        Assert.False(File.Exists(server.AuditFile) && (await File.ReadAllLinesAsync(server.AuditFile)).Length > 1, "a refused body left an audit line");
    }

    [Theory]
    [InlineData("", "body is not valid JSON")]
    [InlineData("null", "it is null")]
    [InlineData("{}", "apiVersion ''")]
    [InlineData("""{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}""", "AdmissionReview has no request")]
    [InlineData("""{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{}}""", "request.uid is missing")]
    [InlineData("""{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":5}}""", "request.uid has the wrong type")]
    [InlineData("""{"apiVersion":"admission.k8s.io/v2","kind":"AdmissionReview","request":{"uid":"a"}}""", "apiVersion 'admission.k8s.io/v2'")]
    public async Task Validate_NotAnAdmissionReview_400WithOneLineReason(string body, string reason)
    {
        await using var server = await WebhookServer.StartAsync();

        var result = await server.PostAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Contains(reason, result.Body, StringComparison.Ordinal);
        Assert.Single(result.Body.TrimEnd('\n').Split('\n'));
    }

    /// <summary>A body split over several of Kestrel's segments is copied into one buffer before it is parsed: the same
    /// review or the same one-line refusal whatever the split, cuts inside strings, escapes and numbers included.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public void Parse_BodyInSegments_SameAsOneSpan(int segment)
    {
        var valid = Reviews.Create("UPDATE", Reviews.VirtualService("v\u00e9\\\"x", ("a", "b")), Reviews.VirtualService("v"), uid: "valid");
        var bodies = new[]
        {
            valid, valid.Replace("\"uid\":\"valid\"", "\"uid\":5", StringComparison.Ordinal), valid + " {}", valid[..(valid.Length / 2)],
            valid.Replace("\"uid\":\"valid\"", "\"uid\":\"\\ud800\"", StringComparison.Ordinal),
        };
        foreach (var text in bodies)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            var whole = AdmissionBody.Parse(new ReadOnlySequence<byte>(bytes));
            var split = AdmissionBody.Parse(Segments.Of(bytes, segment));

            Assert.Equal((whole.StatusCode, whole.Reason), (split.StatusCode, split.Reason));
            Assert.Equal(Serialized(whole.Review), Serialized(split.Review));
        }

        Assert.Equal("valid", AdmissionBody.Parse(Segments.Of(Encoding.UTF8.GetBytes(valid), segment)).Review?.Request?.Uid);
    }

    private static string? Serialized(AdmissionReview? review) =>
        review is null ? null : JsonSerializer.Serialize(review, AdmissionJsonContext.Default.AdmissionReview);

    /// <summary>A byte array as a sequence of segments of at most the given length.</summary>
    private sealed class Segments : ReadOnlySequenceSegment<byte>
    {
        private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public static ReadOnlySequence<byte> Of(byte[] bytes, int length)
        {
            var first = new Segments(bytes.AsMemory(0, Math.Min(length, bytes.Length)), 0);
            var last = first;
            for (var offset = length; offset < bytes.Length; offset += length)
            {
                var next = new Segments(bytes.AsMemory(offset, Math.Min(length, bytes.Length - offset)), offset);
                last.Next = next;
                last = next;
            }

            return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        }
    }

    private sealed record Body(string Kind, byte[] Bytes);

    private static IEnumerable<Body> Generate(Random random, int count)
    {
        var valid = Reviews.Create("UPDATE", Reviews.VirtualService("v", ("a", "b")), Reviews.VirtualService("v"), uid: "valid");
        var paths = new[]
        {
            "apiVersion", "kind", "request", "request.uid", "request.kind", "request.kind.kind", "request.resource", "request.operation",
            "request.userInfo", "request.userInfo.groups", "request.userInfo.username", "request.dryRun", "request.name", "request.namespace",
            "request.subResource", "request.requestKind",
        };
        var wrongValues = new Func<JsonNode?>[]
        {
            () => JsonValue.Create(42), () => JsonValue.Create(true), () => new JsonArray(1, 2), () => new JsonObject { ["x"] = 1 },
            () => JsonValue.Create(3.5), () => JsonValue.Create("text"),
        };
        for (var i = 0; i < count; i++)
        {
            switch (i % 10)
            {
                case 0 or 1:
                    yield return new Body("truncated", Encoding.UTF8.GetBytes(valid[..random.Next(0, valid.Length - 1)]));
                    break;
                case 2 or 3:
                {
                    var root = JsonNode.Parse(valid)!.AsObject();
                    var path = paths[random.Next(paths.Length)].Split('.');
                    var parent = root as JsonNode;
                    foreach (var p in path[..^1])
                    {
                        parent = parent![p];
                    }

                    JsonNode? value;
                    do
                    {
                        value = wrongValues[random.Next(wrongValues.Length)]();
                    }
                    while (IsRightType(path[^1], value));

                    parent![path[^1]] = value;
                    yield return new Body("wrong-type:" + string.Join('.', path), Encoding.UTF8.GetBytes(root.ToJsonString()));
                    break;
                }

                case 4:
                {
                    var depth = random.Next(129, 5000);
                    var nested = new string('[', depth) + new string(']', depth);
                    // deeper than the 128 levels the reader accepts: alone, or as the request's options
                    var body = random.Next(2) == 0 ? nested : valid.Replace("\"dryRun\":false", $"\"dryRun\":false,\"options\":{nested}", StringComparison.Ordinal);
                    yield return new Body("deep", Encoding.UTF8.GetBytes(body));
                    break;
                }

                case 5:
                {
                    var field = random.Next(3) switch { 0 => "apiVersion", 1 => "kind", _ => "operation" };
                    var huge = new string('x', random.Next(100_000, 600_000));
                    var root = JsonNode.Parse(valid)!.AsObject();
                    if (field == "operation")
                    {
                        root["request"]!["uid"] = 7;
                        root["request"]!["operation"] = huge;
                    }
                    else
                    {
                        root[field] = huge;
                    }

                    yield return new Body("huge-string:" + field, Encoding.UTF8.GetBytes(root.ToJsonString()));
                    break;
                }

                case 6:
                {
                    var root = JsonNode.Parse(valid)!.AsObject();
                    var missing = random.Next(4);
                    if (missing == 0)
                    {
                        root.Remove("request");
                    }
                    else if (missing == 1)
                    {
                        root["request"]!.AsObject().Remove("uid");
                    }
                    else if (missing == 2)
                    {
                        root.Remove("apiVersion");
                    }
                    else
                    {
                        root.Remove("kind");
                    }

                    yield return new Body("missing", Encoding.UTF8.GetBytes(root.ToJsonString()));
                    break;
                }

                case 7:
                {
                    var bytes = new byte[random.Next(1, 2000)];
                    random.NextBytes(bytes);
                    bytes[0] = (byte)'{';
                    yield return new Body("garbage", bytes);
                    break;
                }

                case 8:
                {
                    string[] scalars = ["", " ", "null", "[]", "123", "\"AdmissionReview\"", "true", "{\"request\":null}", valid + "}", valid + " x", "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":[]}"];
                    yield return new Body("scalar", Encoding.UTF8.GetBytes(scalars[random.Next(scalars.Length)]));
                    break;
                }

                default:
                    if (i % 100 == 9)
                    {
                        var big = valid.Replace("\"tester\"", "\"" + new string('u', 3 * MiB) + "\"", StringComparison.Ordinal);
                        yield return new Body("huge-body", Encoding.UTF8.GetBytes(big));
                    }
                    else
                    {
                        var s = valid.ToCharArray();
                        for (var k = 0; k < 1 + random.Next(5); k++)
                        {
                            s[random.Next(s.Length)] = "{}[]\",:\\"[random.Next(8)];
                        }

                        var text = new string(s);
                        yield return new Body("flipped", Encoding.UTF8.GetBytes(IsValidReviewShape(text) ? "{" + text : text));
                    }

                    break;
            }
        }
    }

    private static bool IsRightType(string field, JsonNode? value) => field switch
    {
        "dryRun" => value is JsonValue v && v.TryGetValue<bool>(out _),
        "groups" => value is JsonArray,
        "kind" or "resource" or "requestKind" or "userInfo" or "request" when value is JsonObject => true,
        _ => value is JsonValue s && s.TryGetValue<string>(out _),
    };

    /// <summary>A flipped character can leave valid JSON that is still a review (a changed letter inside a string).</summary>
    private static bool IsValidReviewShape(string text)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(text);
            return true;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }
}
