using EgressWebhook.Cli;

return CliApp.Run(args, CliConsole.System);
