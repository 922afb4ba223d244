using System.Text.Json;
using System.Text.RegularExpressions;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Serialization;

namespace EgressWebhook.Core.Tests.Infrastructure;

/// <summary>One file of Istio's published configurations (<c>../shared/istio-corpus/manifest.yaml</c>).</summary>
public sealed record CorpusFile(string Path, string Verdict, string Reason, IReadOnlyList<string> Objects, IReadOnlyList<string> OtherInputs)
{
    public override string ToString() => Path;
}

/// <summary>Reads the corpus index and its files the way the walkthroughs apply them.</summary>
public static partial class Corpus
{
    public static IReadOnlyList<CorpusFile> Files { get; } = Load();

    private static List<CorpusFile> Load()
    {
        var root = YamlJson.ParseDocuments(File.ReadAllText(System.IO.Path.Combine(TestPaths.Corpus, "manifest.yaml")))[0].Json;
        var result = new List<CorpusFile>();
        foreach (var group in root.GetProperty("files").EnumerateObject())
        {
            foreach (var f in group.Value.EnumerateArray())
            {
                var objects = f.TryGetProperty("objects", out var o) && o.ValueKind == JsonValueKind.Array
                    ? o.EnumerateArray().Select(x => x.GetString()!).ToList() : [];
                var others = new List<string>();
                if (f.TryGetProperty("tests", out var tests) && tests.ValueKind == JsonValueKind.Array)
                {
                    // the first analyzer test of a file is the one run on it alone, or with the inputs it names
                    var first = tests[0];
                    if (first.TryGetProperty("other_inputs", out var oi) && oi.ValueKind == JsonValueKind.Array)
                    {
                        others.AddRange(oi.EnumerateArray().Select(x => x.GetString()!));
                    }
                }

                result.Add(new CorpusFile(f.GetProperty("path").GetString()!, f.GetProperty("verdict").GetString()!,
                    f.TryGetProperty("reason", out var r) ? r.GetString() ?? "" : "", objects, others));
            }
        }

        return result;
    }

    /// <summary>The objects of a file (and of the analyzer inputs it is tested with), each in the namespace
    /// the walkthrough applies it to (<c>Kind/name@ns</c> in the index; <c>default</c> otherwise).</summary>
    public static IReadOnlyList<EgressObject> Read(CorpusFile file)
    {
        var result = new List<EgressObject>();
        var dir = System.IO.Path.GetDirectoryName(file.Path)!;
        foreach (var path in new[] { file.Path }.Concat(file.OtherInputs.Select(o => System.IO.Path.Combine(dir, o))))
        {
            var text = Substitute(File.ReadAllText(System.IO.Path.Combine(TestPaths.Corpus, path)));
            foreach (var obj in ManifestReader.Read(text, Unset))
            {
                result.Add(obj.Namespace == Unset ? obj with { Metadata = obj.Metadata with { Namespace = NamespaceOf(file, obj) } } : obj);
            }
        }

        return result;
    }

    /// <summary>The rule a should-flag verdict names: <c>EG-07</c> / <c>EG-07b</c> is EGW107, EG-12 is EGW111, EG-13 is EGW112.</summary>
    public static string? NamedRule(CorpusFile file)
    {
        var m = EgId().Match(file.Reason);
        if (!m.Success)
        {
            return null;
        }

        var n = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        return n switch
        {
            12 => "EGW111",
            13 => "EGW112",
            _ => $"EGW1{n:00}",
        };
    }

    private const string Unset = "\u0001unset";

    private static string NamespaceOf(CorpusFile file, EgressObject obj)
    {
        var prefix = $"{obj.KindName}/{obj.Name}@";
        return file.Objects.FirstOrDefault(o => o.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..] ?? "default";
    }

    /// <summary>Shell placeholders exactly as published (the http-proxy task uses the squid pod's IP and port 3128).</summary>
    private static string Substitute(string text) =>
        text.Replace("$PROXY_IP", "10.244.0.10", StringComparison.Ordinal).Replace("$PROXY_PORT", "3128", StringComparison.Ordinal);

    [GeneratedRegex(@"\bEG-(\d\d)[a-z]?\b")]
    private static partial Regex EgId();
}
