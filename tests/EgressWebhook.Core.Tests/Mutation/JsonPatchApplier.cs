using System.Text.Json.Nodes;

namespace EgressWebhook.Core.Tests.Mutation;

/// <summary>A tiny RFC 6902 applier (add, replace, remove, test), independent of the product code, so that tests
/// apply the webhook's patch the way the API server does.</summary>
public static class JsonPatchApplier
{
    public static JsonNode Apply(JsonNode document, JsonArray patch)
    {
        var root = document.DeepClone();
        foreach (var item in patch)
        {
            var op = item!["op"]!.GetValue<string>();
            var path = item["path"]!.GetValue<string>();
            var value = item["value"]?.DeepClone();
            var (parent, token) = Resolve(root, path);
            switch (op, parent)
            {
                case ("add", JsonObject obj):
                    obj[token] = value;
                    break;
                case ("add", JsonArray arr):
                    if (token == "-")
                    {
                        arr.Add(value);
                    }
                    else
                    {
                        arr.Insert(Index(arr, token, allowEnd: true), value);
                    }

                    break;
                case ("replace", JsonObject obj):
                    Assert.True(obj.ContainsKey(token), $"replace of missing member {path}");
                    obj[token] = value;
                    break;
                case ("replace", JsonArray arr):
                    arr[Index(arr, token, allowEnd: false)] = value;
                    break;
                case ("remove", JsonObject obj):
                    Assert.True(obj.Remove(token), $"remove of missing member {path}");
                    break;
                case ("remove", JsonArray arr):
                    arr.RemoveAt(Index(arr, token, allowEnd: false));
                    break;
                case ("test", _):
                    var current = parent is JsonObject o ? o[token] : ((JsonArray)parent)[Index((JsonArray)parent, token, false)];
                    Assert.True(JsonNode.DeepEquals(current, value), $"test failed at {path}");
                    break;
                default:
                    Assert.Fail($"unsupported operation {op} at {path}");
                    break;
            }
        }

        return root;
    }

    private static (JsonNode Parent, string Token) Resolve(JsonNode root, string path)
    {
        Assert.StartsWith("/", path);
        var tokens = path[1..].Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToArray();
        var current = root;
        foreach (var token in tokens[..^1])
        {
            current = current switch
            {
                JsonObject obj => obj[token] ?? throw new Xunit.Sdk.XunitException($"{path}: no member {token} (RFC 6902 add does not create parents)"),
                JsonArray arr => arr[Index(arr, token, false)]!,
                _ => throw new Xunit.Sdk.XunitException($"{path}: {token} is not in a container"),
            };
        }

        return (current, tokens[^1]);
    }

    private static int Index(JsonArray arr, string token, bool allowEnd)
    {
        var i = int.Parse(token, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(i, 0, allowEnd ? arr.Count : arr.Count - 1);
        return i;
    }
}
