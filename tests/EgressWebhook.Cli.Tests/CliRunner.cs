using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Cli.Tests;

/// <summary>Runs kubectl-egress in-process with captured streams.</summary>
internal static class CliRunner
{
    public static string Shared => TestPaths.Shared;

    public static string Seed(string file) => Path.Combine(TestPaths.Seed, file);

    public static string Corpus(string file) => Path.Combine(TestPaths.Corpus, file);

    public static (int Exit, string Out, string Err) RunWithInput(string stdin, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = CliApp.Run(args, new CliConsole(new StringReader(stdin), output, error));
        return (exit, output.ToString(), error.ToString());
    }

    public static (int Exit, string Out, string Err) Run(params string[] args) => RunWithInput("", args);
}
