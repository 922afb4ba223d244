using EgressWebhook.Core.Rules;
using EgressWebhook.Server.Options;
using EgressWebhook.Server.Tests.Infrastructure;

namespace EgressWebhook.Server.Tests.Options;

public sealed class WebhookOptionsValidatorTests
{
    private static WebhookOptions Valid() => new() { StateDirectory = TestPaths.Examples };

    [Theory]
    [InlineData("EGW405", "Off")]
    [InlineData("EGW401", "Deny")]
    [InlineData("EGW999", "Off")]
    [InlineData("egw1", "Warn")]
    public void Validate_RuleWithoutEnforcement_OneLineNamingTheSetting(string rule, string enforcement)
    {
        var options = Valid();
        options.Rules[rule] = enforcement;

        var result = new WebhookOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        var failure = Assert.Single(result.Failures!);
        Assert.StartsWith($"Webhook:Rules:{rule} is ", failure, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', failure);
    }

    [Fact]
    public void Validate_EveryEnforceableRuleOff_Accepted()
    {
        var options = Valid();
        foreach (var rule in RuleCatalog.EnforceableIds)
        {
            options.Rules[rule] = "Off";
        }

        var result = new WebhookOptionsValidator().Validate(null, options);

        Assert.True(result.Succeeded, string.Join("; ", result.Failures ?? []));
        Assert.Contains(RuleIds.DeleteLeavesDanglingReference, (IReadOnlySet<string>)RuleCatalog.EnforceableIds);
        Assert.DoesNotContain(RuleIds.RoutingSkippedConflictingRoute, (IReadOnlySet<string>)RuleCatalog.EnforceableIds);
    }
}
