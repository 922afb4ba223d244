using EgressWebhook.Core.Rules;

namespace EgressWebhook.Cli.Output;

/// <summary>One line per finding, in the manner of <c>istioctl analyze</c>, then a summary line.</summary>
internal static class TextReport
{
    public static void Write(EgressReport report, TextWriter output)
    {
        foreach (var f in report.Findings)
        {
            var level = f.Severity == Severity.Error ? "Error" : f.Audit ? "Audit" : "Warning";
            var path = f.Path.Length > 0 ? $" {f.Path}" : "";
            output.WriteLine($"{level} [{f.Rule}] ({f.Object}{path}) {f.Message}");
        }

        if (report.Findings.Count == 0)
        {
            output.WriteLine($"✔ No egress issues found in {Count(report.Objects, "object")}.");
        }
        else
        {
            output.WriteLine($"{Count(report.Errors, "error")}, {Count(report.Warnings, "warning")} in {Count(report.Objects, "object")}.");
        }
    }

    private static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";
}
