using System.CommandLine;
using EgressWebhook.Cli.Commands;

namespace EgressWebhook.Cli;

/// <summary>The command tree. <see cref="Run"/> never throws: bad input is one line on stderr and exit code 2, an
/// unexpected exception one line and exit code 3.</summary>
internal static class CliApp
{
    public static int Run(string[] args, CliConsole console)
    {
        var root = new RootCommand("kubectl-egress: check Istio egress configuration offline with the EgressWebhook rules")
        {
            CheckCommand.Create(console),
            RenderCommand.Create(console),
            TraceCommand.Create(console),
            AuditCommand.Create(console),
            GraphCommand.Create(console),
            HostsCommand.Create(console),
        };

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // System.CommandLine lists the allowed values on further lines; keep the one-line contract
            var message = string.Join(' ', parse.Errors[0].Message.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            console.Error.WriteLine($"kubectl-egress: {message}");
            return ExitCodes.BadInput;
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = console.Out, Error = console.Error, EnableDefaultExceptionHandler = false });
        }
        catch (InputException ex)
        {
            console.Error.WriteLine($"kubectl-egress: {ex.Message}");
            return ExitCodes.BadInput;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // a bug, not bad input: still one line, never a stack trace
            var message = string.Join(' ', ex.Message.Split(['\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            console.Error.WriteLine($"kubectl-egress: internal error: {ex.GetType().Name}: {message}");
            return ExitCodes.InternalError;
        }
    }
}
