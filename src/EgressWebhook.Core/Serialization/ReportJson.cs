using System.Text.Json;
using System.Text.Json.Serialization;
using EgressWebhook.Core.Rules;

namespace EgressWebhook.Core.Serialization;

/// <summary>The JSON report contract of <c>kubectl-egress check -o json</c> (parsed by CI pipelines):
/// <c>{"findings":[{rule,severity (error, warning, or audit: an Audit policy's finding, recorded only),kind,namespace,name,path,message,related:[{kind,namespace,name}]}],"summary":{objects,errors,warnings}}</c>.</summary>
public static class ReportJson
{
    public static string Serialize(EgressReport report, bool indented = false)
    {
        var dto = new ReportDto(
            report.Findings.Select(f => new FindingDto(
                f.Rule, f.Severity == Severity.Error ? "error" : f.Audit ? "audit" : "warning", f.Object.Kind, f.Object.Namespace, f.Object.Name,
                f.Path, f.Message, f.Related.Select(r => new ObjectRefDto(r.Kind, r.Namespace, r.Name)).ToArray())).ToArray(),
            new SummaryDto(report.Objects, report.Errors, report.Warnings));
        var json = JsonSerializer.Serialize(dto, indented ? ReportJsonContext.Indented.ReportDto : ReportJsonContext.Default.ReportDto);
        return indented ? json.Replace("\r\n", "\n", StringComparison.Ordinal) : json;
    }

    public static ReportDto? Deserialize(string json) => JsonSerializer.Deserialize(json, ReportJsonContext.Default.ReportDto);
}

public sealed record ReportDto(IReadOnlyList<FindingDto> Findings, SummaryDto Summary);

public sealed record FindingDto(string Rule, string Severity, string Kind, string Namespace, string Name, string Path, string Message, IReadOnlyList<ObjectRefDto> Related);

public sealed record ObjectRefDto(string Kind, string Namespace, string Name);

public sealed record SummaryDto(int Objects, int Errors, int Warnings);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ReportDto))]
internal sealed partial class ReportJsonContext : JsonSerializerContext
{
    public static ReportJsonContext Indented { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
