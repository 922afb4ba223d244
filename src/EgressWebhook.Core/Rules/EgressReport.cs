namespace EgressWebhook.Core.Rules;

/// <summary>The outcome of a check: findings in a deterministic order and the number of objects checked.</summary>
public sealed record EgressReport(IReadOnlyList<Finding> Findings, int Objects)
{
    public int Errors => Findings.Count(f => f.Severity == Severity.Error);

    public int Warnings => Findings.Count(f => f.Severity == Severity.Warning);

    /// <summary>No error: the webhook allows.</summary>
    public bool Allowed => Errors == 0;
}
