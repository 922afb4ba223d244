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

    /// <summary>An unexpected exception (a bug, not the input): one line on stderr, never a stack trace.</summary>
    public const int InternalError = 3;
}
