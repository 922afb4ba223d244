using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Serialization;

namespace EgressWebhook.Core.Engine;

/// <summary>Whether two versions of an object read the same to every rule.</summary>
/// <remarks>The model holds only what the rules read (<see cref="ObjectMeta"/>: "the part of metadata that the rules
/// read"), so two versions whose models serialize to the same JSON, once the metadata that the API server changes on
/// every write (<c>resourceVersion</c>, <c>generation</c>, <c>uid</c>: read by no rule) is left out, give every rule
/// the same input. An UPDATE that changes nothing else (a re-apply of the same manifest, a generation bump) then cannot
/// change any finding about another object, and <see cref="EgressEngine.CheckChange"/> skips re-checking the objects
/// that depend on it. The comparison is conservative: a different order of map keys, or null against empty text,
/// counts as a difference; every annotation counts, so a client-side <c>kubectl apply</c>, which rewrites
/// <c>last-applied-configuration</c>, is never the same. Text that is not valid UTF-16 would serialize alike; the
/// decoders refuse it before an object exists. <see cref="MeshConfig"/> is never compared (it keeps its decoding
/// problem outside the JSON).
/// Cost: one serialization of each version, the second compared as it is written (no copy of it is kept).</remarks>
internal static class RuleInputs
{
    [ThreadStatic]
    private static Buffers? t_buffers;

    /// <param name="a">One version.</param>
    /// <param name="b">The other.</param>
    /// <param name="budget">The request's deadline, looked at before each serialization.</param>
    public static bool Same(EgressObject a, EgressObject b, CancellationToken budget = default)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.GetType() != b.GetType() || a is MeshConfig)
        {
            return false;
        }

        var buffers = t_buffers ??= new Buffers();
        try
        {
            budget.ThrowIfCancellationRequested();
            buffers.Write(a, buffers.Written);
            budget.ThrowIfCancellationRequested();
            buffers.Comparing.Start(buffers.Written.WrittenMemory);
            buffers.Write(b, buffers.Comparing);
            return buffers.Comparing.Matched;
        }
        finally
        {
            buffers.Reset();
        }
    }

    private static EgressObject WithoutWriteBookkeeping(EgressObject obj) =>
        obj with { Metadata = obj.Metadata with { ResourceVersion = null, Generation = null, Uid = null } };

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "One per thread, kept for the thread's life; the writer holds only managed buffers.")]
    private sealed class Buffers
    {
        private const int Retained = 64 * 1024;

        // no HTML escaping: text is written as it is (a string of '<' is not six times its size), still one form per text
        private readonly Utf8JsonWriter _writer = new(Stream.Null, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

        public ArrayBufferWriter<byte> Written { get; private set; } = new(4096);

        public ComparingWriter Comparing { get; } = new();

        public void Write(EgressObject obj, IBufferWriter<byte> into)
        {
            _writer.Reset(into);
            JsonSerializer.Serialize(_writer, WithoutWriteBookkeeping(obj), EgressJsonContext.Default.GetTypeInfo(obj.GetType())!);
            _writer.Flush();
        }

        /// <summary>Keeps the buffers for the next call unless a large object grew them.</summary>
        public void Reset()
        {
            _writer.Reset(Stream.Null);
            if (Written.Capacity > Retained)
            {
                Written = new ArrayBufferWriter<byte>(4096);
            }
            else
            {
                Written.ResetWrittenCount();
            }

            Comparing.Reset(Retained);
        }
    }

    /// <summary>A buffer writer that keeps nothing: each block written is compared with the next bytes of the expected
    /// JSON, and the first difference is remembered.</summary>
    private sealed class ComparingWriter : IBufferWriter<byte>
    {
        private byte[] _scratch = new byte[4096];
        private ReadOnlyMemory<byte> _expected;
        private int _position;
        private bool _differs;

        /// <summary>Everything written equals the expected bytes, and all of them were written.</summary>
        public bool Matched => !_differs && _position == _expected.Length;

        public void Start(ReadOnlyMemory<byte> expected)
        {
            _expected = expected;
            _position = 0;
            _differs = false;
        }

        public void Advance(int count)
        {
            if (!_differs)
            {
                var rest = _expected.Span[_position..];
                _differs = count > rest.Length || !_scratch.AsSpan(0, count).SequenceEqual(rest[..count]);
            }

            _position += count;
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => Ensure(sizeHint);

        public Span<byte> GetSpan(int sizeHint = 0) => Ensure(sizeHint);

        public void Reset(int retained)
        {
            _expected = default;
            if (_scratch.Length > retained)
            {
                _scratch = new byte[4096];
            }
        }

        private byte[] Ensure(int sizeHint)
        {
            if (sizeHint > _scratch.Length)
            {
                _scratch = new byte[Math.Max(sizeHint, _scratch.Length * 2)];
            }

            return _scratch;
        }
    }
}
