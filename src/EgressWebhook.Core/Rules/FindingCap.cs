using System.Globalization;
using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Rules;

/// <summary>Bounds the findings of one rule about one object: the first <see cref="PerRuleAndObject"/> are kept as
/// reported, the rest only counted and summed up in one finding (<c>… and 59,980 more EGW101 errors like the 20 listed
/// in spec.http; fix those, then re-check</c>).</summary>
/// <remarks>An object near the API server's 3 MiB limit can list 150,000 hosts, ports or routes, each with the same
/// problem. Formatting, deduplicating and sorting a finding per item cost more than the check itself, and no reader
/// of a denial or a report goes past the first screen: the first few name the problem and where it is, the count says
/// how far it goes. The summary keeps the worst severity of what it counts, and is a contradiction as soon as one of
/// the findings at that severity is, so that a denial stays a denial.</remarks>
internal sealed class FindingCap
{
    /// <summary>Findings kept per rule and object (the admission answer lists 20 errors in all).</summary>
    public const int PerRuleAndObject = 20;

    private Dictionary<(string Rule, ObjectRef Object), Tally>? _tallies;

    public bool HasOverflow { get; private set; }

    /// <summary>Whether the finding is to be kept; if not, it is counted in its rule and object's summary.</summary>
    public bool Admit(string rule, Severity severity, ObjectRef subject, string path, Awaited? awaits)
    {
        var tally = TallyOf(rule, subject);
        if (tally.Kept < PerRuleAndObject)
        {
            tally.Kept++;
            return true;
        }

        HasOverflow = true;
        tally.More++;
        if (tally.More == 1 || severity > tally.Severity)
        {
            tally.Severity = severity;
            tally.Awaits = awaits;
            tally.Path ??= ListPath(path);
        }
        else if (severity == tally.Severity && awaits is null)
        {
            tally.Awaits = null;
        }

        return false;
    }

    /// <summary>Whether <paramref name="rule"/> has kept its findings about <paramref name="subject"/> already.</summary>
    public bool IsFull(string rule, ObjectRef subject) => Find(rule, subject) is { Kept: >= PerRuleAndObject };

    /// <summary>Whether a finding of <paramref name="rule"/> about <paramref name="subject"/> at <paramref name="severity"/>
    /// would only be counted, its <see cref="Awaited"/> read for nothing but being null or not: the summary keeps one of an
    /// earlier finding past the cap at this severity or above (<see cref="Admit"/> stores one only for the first past the
    /// cap and for a higher severity).</summary>
    public bool CountsOnly(string rule, ObjectRef subject, Severity severity)
    {
        return Find(rule, subject) is { More: > 0 } tally && severity <= tally.Severity;
    }

    // the tally asked for last: a rule reports about one object in a row, and hashing the key per finding is most of
    // what a finding past the cap costs
    private string? _lastRule;
    private ObjectRef? _lastSubject;
    private Tally? _lastTally;

    /// <summary>The tally of a rule and object that reported already, or null: a question adds no entry (a whole-snapshot
    /// check asks it of every object).</summary>
    private Tally? Find(string rule, ObjectRef subject)
    {
        if (_lastTally is not null && ReferenceEquals(rule, _lastRule) && subject.Equals(_lastSubject))
        {
            return _lastTally;
        }

        if (_tallies is null || !_tallies.TryGetValue((rule, subject), out var tally))
        {
            return null;
        }

        (_lastRule, _lastSubject, _lastTally) = (rule, subject, tally);
        return tally;
    }

    private Tally TallyOf(string rule, ObjectRef subject)
    {
        if (_lastTally is not null && ReferenceEquals(rule, _lastRule) && subject.Equals(_lastSubject))
        {
            return _lastTally;
        }

        _tallies ??= [];
        var key = (rule, subject);
        if (!_tallies.TryGetValue(key, out var tally))
        {
            _tallies[key] = tally = new Tally();
        }

        (_lastRule, _lastSubject, _lastTally) = (rule, subject, tally);
        return tally;
    }

    /// <summary>One finding per rule and object that had more than it kept.</summary>
    public IEnumerable<Finding> Summaries()
    {
        if (_tallies is null)
        {
            yield break;
        }

        foreach (var ((rule, subject), tally) in _tallies)
        {
            if (tally.More > 0)
            {
                // the severity is in the text: findings are compared by text (before and after a change)
                var more = tally.More.ToString("N0", CultureInfo.InvariantCulture);
                var what = tally.Severity == Severity.Error ? "errors" : "warnings";
                yield return new Finding(rule, tally.Severity, subject, tally.Path!,
                    Finding.Clamp($"… and {more} more {rule} {what} like the {PerRuleAndObject} listed in {tally.Path}; fix those, then re-check"), [])
                {
                    Awaits = tally.Awaits,
                };
            }
        }
    }

    public void Clear()
    {
        _tallies?.Clear();
        (_lastRule, _lastSubject, _lastTally) = (null, null, null);
        HasOverflow = false;
    }

    /// <summary>The list a path is in: <c>spec.http[3].route[0].destination.host</c> → <c>spec.http</c>.</summary>
    private static string ListPath(string path)
    {
        var bracket = path.IndexOf('[', StringComparison.Ordinal);
        return bracket > 0 ? path[..bracket] : path;
    }

    private sealed class Tally
    {
        public int Kept;
        public int More;
        public Severity Severity;
        public Awaited? Awaits;
        public string? Path;
    }
}
