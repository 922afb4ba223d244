using System.Text.RegularExpressions;

namespace EgressWebhook.Deploy.Tests.Infrastructure;

public sealed record DockerInstruction(string Keyword, string Arguments)
{
    /// <summary>Leading <c>--flag=value</c> options (COPY --from=build) and the remaining words.</summary>
    public (IReadOnlyDictionary<string, string> Flags, IReadOnlyList<string> Words) Split()
    {
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        var words = Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        while (words.Count > 0 && words[0].StartsWith("--", StringComparison.Ordinal))
        {
            var flag = words[0][2..];
            var eq = flag.IndexOf('=');
            flags[eq < 0 ? flag : flag[..eq]] = eq < 0 ? "" : flag[(eq + 1)..];
            words.RemoveAt(0);
        }

        return (flags, words);
    }
}

public sealed record DockerStage(string Image, string? Name, IReadOnlyList<DockerInstruction> Instructions)
{
    public IEnumerable<DockerInstruction> All(string keyword) => Instructions.Where(i => i.Keyword == keyword);
}

/// <summary>A small Dockerfile reader: comments, line continuations, stages. Enough to check ours statically.</summary>
public static partial class Dockerfile
{
    public static IReadOnlyList<DockerStage> Parse(string text)
    {
        var instructions = new List<DockerInstruction>();
        var pending = "";
        foreach (var raw in text.ReplaceLineEndings("\n").Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith('#') || (line.Length == 0 && pending.Length == 0))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                pending += line[..^1] + " ";
                continue;
            }

            var full = (pending + line).Trim();
            pending = "";
            if (full.Length == 0)
            {
                continue;
            }

            var match = InstructionPattern().Match(full);
            instructions.Add(new DockerInstruction(match.Groups[1].Value.ToUpperInvariant(), match.Groups[2].Value.Trim()));
        }

        var stages = new List<DockerStage>();
        foreach (var instruction in instructions)
        {
            if (instruction.Keyword == "FROM")
            {
                var words = instruction.Split().Words;
                var name = words.Count >= 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[2] : null;
                stages.Add(new DockerStage(words[0], name, []));
            }
            else if (stages.Count > 0)
            {
                stages[^1] = stages[^1] with { Instructions = [.. stages[^1].Instructions, instruction] };
            }
        }

        return stages;
    }

    [GeneratedRegex(@"^(\S+)\s*(.*)$", RegexOptions.Singleline)]
    private static partial Regex InstructionPattern();
}

/// <summary>.dockerignore matching as Docker does it: a path is excluded when it or one of its parent
/// directories matches the last matching pattern, unless that pattern is an exception (<c>!</c>).</summary>
public sealed class DockerIgnore
{
    private readonly List<(Regex Pattern, bool Exception)> _patterns = [];

    public DockerIgnore(string text)
    {
        foreach (var raw in text.ReplaceLineEndings("\n").Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var exception = line.StartsWith('!');
            var pattern = (exception ? line[1..] : line).Trim().Trim('/');
            _patterns.Add((new Regex("^" + ToRegex(pattern) + "$", RegexOptions.CultureInvariant), exception));
        }
    }

    public bool Excludes(string path)
    {
        var segments = path.Split('/');
        var excluded = false;
        foreach (var (pattern, exception) in _patterns)
        {
            var matches = Enumerable.Range(1, segments.Length).Any(n => pattern.IsMatch(string.Join('/', segments.Take(n))));
            if (matches)
            {
                excluded = !exception;
            }
        }

        return excluded;
    }

    private static string ToRegex(string pattern)
    {
        var regex = new System.Text.StringBuilder();
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                var slash = i + 2 < pattern.Length && pattern[i + 2] == '/';
                regex.Append(slash ? "(.*/)?" : ".*");
                i += slash ? 2 : 1;
            }
            else
            {
                regex.Append(c switch
                {
                    '*' => "[^/]*",
                    '?' => "[^/]",
                    _ => Regex.Escape(c.ToString()),
                });
            }
        }

        return regex.ToString();
    }
}
