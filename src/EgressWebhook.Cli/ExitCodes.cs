namespace EgressWebhook.Cli;

/// <summary>Exit codes of kubectl-egress.</summary>
internal static class ExitCodes
{
    /// <summary>No finding at or above the threshold.</summary>
    public const int Clean = 0;

    /// <summary>Findings at or above the threshold.</summary>
    public const int Findings = 1;

    /// <summary>Unusable input: syntax error, unreadable file, bad flag.</summary>
    public const int BadInput = 2;
}
