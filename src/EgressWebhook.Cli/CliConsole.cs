namespace EgressWebhook.Cli;

/// <summary>The streams a run reads and writes, so tests can run the CLI in-process.</summary>
internal sealed record CliConsole(TextReader In, TextWriter Out, TextWriter Error)
{
    public static CliConsole System => new(Console.In, Console.Out, Console.Error);
}
