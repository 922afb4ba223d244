using EgressWebhook.Core.Rules;
using EgressWebhook.Server.Options;
using EgressWebhook.Server.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace EgressWebhook.Server.Tests.Options;

public sealed class WebhookOptionsValidatorTests
{
    /// <summary>The options as the host binds them: the binder, then <see cref="WebhookOptionsSetup"/>.</summary>
    private static WebhookOptions Bound(Dictionary<string, string?> settings)
    {
        var section = new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection(WebhookOptions.SectionName);
        var options = new WebhookOptions { StateDirectory = TestPaths.Examples };
        section.Bind(options);
        new WebhookOptionsSetup(section).Configure(options);
        return options;
    }

    [Theory]
    [InlineData("EGW405", "Off")]
    [InlineData("EGW401", "Deny")]
    [InlineData("EGW999", "Off")]
    [InlineData("egw1", "Warn")]
    public void Validate_RuleWithoutEnforcement_OneLineNamingTheSetting(string rule, string enforcement)
    {
        var options = Bound(new() { [$"Webhook:Rules:{rule}"] = enforcement });

        var result = new WebhookOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        var failure = Assert.Single(result.Failures!);
        Assert.StartsWith($"Webhook:Rules:{rule} is ", failure, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', failure);
    }

    [Fact]
    public void Validate_EveryEnforceableRuleOff_Accepted()
    {
        var options = Bound(RuleCatalog.EnforceableIds.ToDictionary(rule => $"Webhook:Rules:{rule.ToLowerInvariant()}", _ => (string?)"off"));

        var result = new WebhookOptionsValidator().Validate(null, options);

        Assert.True(result.Succeeded, string.Join("; ", result.Failures ?? []));
        Assert.Equal(RuleCatalog.EnforceableIds.Count, options.Rules.Count);
        Assert.All(options.Rules, r => Assert.Equal(Enforcement.Off, r.Value));
        Assert.All(options.Rules.Keys, k => Assert.Equal(k.ToUpperInvariant(), k));
        Assert.Contains(RuleIds.DeleteLeavesDanglingReference, (IReadOnlySet<string>)RuleCatalog.EnforceableIds);
        Assert.DoesNotContain(RuleIds.RoutingSkippedConflictingRoute, (IReadOnlySet<string>)RuleCatalog.EnforceableIds);
    }

    [Theory]
    [InlineData("Enforcement", "1", "Webhook:Enforcement '1' must be Tolerant or Strict")]
    [InlineData("FailureMode", "Deny,Allow", "Webhook:FailureMode 'Deny,Allow' must be Deny or Allow")]
    [InlineData("GracePeriod", "2h", "Webhook:GracePeriod '2h' must be a duration between 0 and 1h")]
    public void Bind_BadTypedValue_OneLineNotAConversionException(string key, string value, string message)
    {
        var result = new WebhookOptionsValidator().Validate(null, Bound(new() { [$"Webhook:{key}"] = value }));

        Assert.StartsWith(message, Assert.Single(result.Failures!), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("LargeReviewBytes", "1024", "Webhook:Limits:LargeReviewBytes 1024 must be between 4096 and 3145728")]
    [InlineData("LargeReviewBytes", "4194304", "Webhook:Limits:LargeReviewBytes 4194304 must be between 4096 and 3145728")]
    [InlineData("LargeReviewBytesInFlight", "1048576", "Webhook:Limits:LargeReviewBytesInFlight 1048576 must be between 3145728 and 4294967296")]
    public void Validate_LargeReviewLimitOutOfRange_OneLine(string key, string value, string message)
    {
        var result = new WebhookOptionsValidator().Validate(null, Bound(new() { [$"Webhook:Limits:{key}"] = value }));

        Assert.Equal(message, Assert.Single(result.Failures!));
    }

    [Fact]
    public void Validate_LargeReviewLimitsAtTheirBounds_Accepted() =>
        Assert.True(new WebhookOptionsValidator().Validate(null, Bound(new()
        {
            ["Webhook:Limits:LargeReviewBytes"] = "3145728",
            ["Webhook:Limits:LargeReviewBytesInFlight"] = "3145728",
        })).Succeeded);

    [Fact]
    public void Bind_TypedValues_ParsedOnceIntoTheirTypes()
    {
        var options = Bound(new()
        {
            ["Webhook:Enforcement"] = "strict",
            ["Webhook:FailureMode"] = "ALLOW",
            ["Webhook:GracePeriod"] = "1m30s",
            ["Webhook:HealthPort"] = "9090",
        });

        Assert.Equal(Core.Admission.ChainEnforcement.Strict, options.Enforcement);
        Assert.Equal(Core.Admission.FailureMode.Allow, options.FailureMode);
        Assert.Equal(TimeSpan.FromSeconds(90), options.GracePeriod);
        Assert.Equal(9090, options.HealthPort);
        Assert.Equal(TimeSpan.FromSeconds(90), options.ToSettings().GracePeriod);
    }
}
