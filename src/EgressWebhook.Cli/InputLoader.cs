using EgressWebhook.Core.Model;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Shared;

namespace EgressWebhook.Cli;

/// <summary>Unusable input, with a one-line message naming the file and line.</summary>
internal sealed class InputException(string message) : Exception(message);

/// <summary>Reads the CLI's inputs (files, directories, <c>-</c> for standard input) into objects.</summary>
internal static class InputLoader
{
    public static IReadOnlyList<EgressObject> Load(IEnumerable<string> paths, TextReader stdin)
    {
        var objects = new List<EgressObject>();
        foreach (var path in paths)
        {
            if (path == "-")
            {
                objects.AddRange(Parse("<stdin>", ReadStdin(stdin)));
            }
            else if (Directory.Exists(path))
            {
                foreach (var file in ListDirectory(path))
                {
                    objects.AddRange(Parse(file, ReadFile(file)));
                }
            }
            else
            {
                objects.AddRange(Parse(path, ReadFile(path)));
            }
        }

        return objects;
    }

    private static string ReadStdin(TextReader stdin)
    {
        try
        {
            return ManifestFiles.ReadBounded(stdin);
        }
        catch (IOException ex)
        {
            throw new InputException($"<stdin>: {ex.Message}");
        }
    }

    private static IReadOnlyList<string> ListDirectory(string path)
    {
        try
        {
            return ManifestFiles.InDirectory(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputException(ex.Message.StartsWith(path, StringComparison.Ordinal) ? ex.Message : $"{path}: {ex.Message}");
        }
    }

    private static string ReadFile(string path)
    {
        try
        {
            return ManifestFiles.ReadText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            var reason = ex is FileNotFoundException or DirectoryNotFoundException ? "no such file or directory" : ex.Message;
            throw new InputException($"{path}: cannot read: {reason}");
        }
    }

    private static IReadOnlyList<EgressObject> Parse(string name, string text)
    {
        try
        {
            return ManifestReader.Read(text);
        }
        catch (ManifestException ex)
        {
            throw new InputException(ex.Line > 0 ? $"{name}:{ex.Line}:{ex.Column}: {ex.Message}" : $"{name}: {ex.Message}");
        }
    }
}
