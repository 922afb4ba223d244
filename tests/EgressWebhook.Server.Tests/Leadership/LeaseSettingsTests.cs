using EgressWebhook.Server.Audit;
using EgressWebhook.Server.Generation;
using EgressWebhook.Server.Leadership;
using EgressWebhook.Server.Options;

namespace EgressWebhook.Server.Tests.Leadership;

/// <summary>Lease timings a leader can renew under (client-go: 0 &lt; retry &lt; renew deadline &lt; lease duration),
/// checked the same way for the generator's and the audit's Lease.</summary>
public sealed class LeaseSettingsTests
{
    [Theory]
    [InlineData(2, 10, 15, true)] // client-go's defaults
    [InlineData(0.2, 2, 3, true)]
    [InlineData(0, 10, 15, false)]
    [InlineData(10, 10, 15, false)]
    [InlineData(2, 15, 15, false)]
    [InlineData(2, 16, 15, false)]
    public void TimingError_NullOnlyWhenALeaderCanRenewInTime(double retry, double renew, double duration, bool sound)
    {
        var error = LeaseSettings.TimingError("Webhook:Generator", retry, renew, duration);

        Assert.Equal(sound, error is null);
        if (error is not null)
        {
            Assert.StartsWith("Webhook:Generator lease timings must satisfy", error, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', error);
        }
    }

    [Fact]
    public void BothValidators_RefuseTimingsUnderWhichALeaderCannotRenew_NamingTheirSection()
    {
        var cluster = Microsoft.Extensions.Options.Options.Create(new WebhookOptions { Source = WebhookOptions.ClusterSource });
        var generator = new GeneratorOptionsValidator(cluster).Validate(null, new GeneratorOptions { Enabled = true, RetryPeriodSeconds = 5, RenewDeadlineSeconds = 4 });
        var audit = new BackgroundAuditOptionsValidator(cluster).Validate(null, new BackgroundAuditOptions { Enabled = true, RetryPeriodSeconds = 5, RenewDeadlineSeconds = 4 });

        Assert.Contains(generator.Failures!, f => f.StartsWith("Webhook:Generator lease timings", StringComparison.Ordinal));
        Assert.Contains(audit.Failures!, f => f.StartsWith("Webhook:Audit lease timings", StringComparison.Ordinal));
    }
}
