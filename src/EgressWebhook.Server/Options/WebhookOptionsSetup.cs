using System.Globalization;
using EgressWebhook.Core.Admission;
using EgressWebhook.Core.Rules;
using Microsoft.Extensions.Options;

namespace EgressWebhook.Server.Options;

/// <summary>Binds the typed settings of <see cref="WebhookOptions"/> that the configuration binder cannot (their
/// format is not its format, or a bad value would throw a conversion exception): each value is parsed once, here, and
/// what does not parse becomes one line in <see cref="WebhookOptions.BindFailures"/>, which the validator reports at
/// start. Runs after <c>Bind</c>, which fills every other setting.</summary>
internal sealed class WebhookOptionsSetup(IConfiguration section) : IConfigureOptions<WebhookOptions>
{
    private const string Prefix = WebhookOptions.SectionName + ":";

    public void Configure(WebhookOptions options)
    {
        if (section[nameof(WebhookOptions.Enforcement)] is { } enforcement)
        {
            if (ParseEnum<ChainEnforcement>(enforcement) is { } parsed)
            {
                options.Enforcement = parsed;
            }
            else
            {
                options.BindFailures.Add($"{Prefix}Enforcement '{enforcement}' must be Tolerant or Strict");
            }
        }

        if (section[nameof(WebhookOptions.FailureMode)] is { } failureMode)
        {
            if (ParseEnum<FailureMode>(failureMode) is { } parsed)
            {
                options.FailureMode = parsed;
            }
            else
            {
                options.BindFailures.Add($"{Prefix}FailureMode '{failureMode}' must be Deny or Allow");
            }
        }

        if (section[nameof(WebhookOptions.GracePeriod)] is { } grace)
        {
            if (WebhookOptions.ParseGracePeriod(grace) is { } span && span > TimeSpan.Zero && span <= TimeSpan.FromHours(1))
            {
                options.GracePeriod = span;
            }
            else
            {
                options.BindFailures.Add($"{Prefix}GracePeriod '{grace}' must be a duration between 0 and 1h (30s, 2m, or seconds)");
            }
        }

        if (section[nameof(WebhookOptions.HealthPort)] is { } port)
        {
            if (int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                options.HealthPort = parsed;
            }
            else
            {
                options.BindFailures.Add($"{Prefix}HealthPort '{port}' must be a port number (0 to 65535)");
            }
        }

        foreach (var rule in section.GetSection(nameof(WebhookOptions.Rules)).GetChildren())
        {
            if (!RuleIds.All.Contains(rule.Key))
            {
                options.BindFailures.Add($"{Prefix}Rules:{rule.Key} is not a rule id (EGW101…)");
            }
            else if (!RuleCatalog.EnforceableIds.Contains(rule.Key))
            {
                // e.g. EGW405: a reason the mutation gives for routing it left out; it has no severity to set, so Off would be ignored
                options.BindFailures.Add($"{Prefix}Rules:{rule.Key} is a mutation reason, not a rule with an enforcement (only EGW1xx and EGW2xx rules take Deny, Strict, Warn or Off)");
            }
            else if (ParseEnum<Enforcement>(rule.Value ?? "") is { } parsed)
            {
                options.Rules[rule.Key.ToUpperInvariant()] = parsed;
            }
            else
            {
                options.BindFailures.Add($"{Prefix}Rules:{rule.Key} '{rule.Value}' must be Deny, Strict, Warn or Off");
            }
        }
    }

    /// <summary>A defined member by name, any case; not a number or a list of flags, which <see cref="Enum.TryParse{TEnum}(string, bool, out TEnum)"/> also takes.</summary>
    private static T? ParseEnum<T>(string text)
        where T : struct, Enum =>
        Enum.TryParse<T>(text, ignoreCase: true, out var value) && Enum.IsDefined(value) && !text.Contains(',', StringComparison.Ordinal) && !int.TryParse(text, out _)
            ? value
            : null;
}
