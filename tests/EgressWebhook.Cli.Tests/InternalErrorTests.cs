namespace EgressWebhook.Cli.Tests;

/// <summary>A crash is not bad input: exit 3 (<see cref="ExitCodes.InternalError"/>), one line on stderr.</summary>
public sealed class InternalErrorTests
{
    /// <summary>A writer that fails the way a bug would: with an exception the CLI does not expect.</summary>
    private sealed class FailingWriter : StringWriter
    {
        public override void Write(char value) => throw new InvalidOperationException("writer broke\nsecond line");

        public override void Write(string? value) => throw new InvalidOperationException("writer broke\nsecond line");

        public override void WriteLine(string? value) => throw new InvalidOperationException("writer broke\nsecond line");
    }

    [Fact]
    public void Check_UnexpectedException_Exit3WithOneLine()
    {
        using var output = new FailingWriter();
        using var error = new StringWriter();

        var exit = CliApp.Run(["check", CliRunner.Seed("01-serviceentry-cnn.yaml")], new CliConsole(new StringReader(""), output, error));

        Assert.Equal(ExitCodes.InternalError, exit);
        Assert.Equal(3, exit);
        Assert.Equal("kubectl-egress: internal error: InvalidOperationException: writer broke second line\n", error.ToString());
    }

    [Fact]
    public void Check_BadInput_StillExit2()
    {
        var (exit, _, error) = CliRunner.Run("check", Path.Combine(CliRunner.Shared, "does-not-exist.yaml"));

        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
    }
}
