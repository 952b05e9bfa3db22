namespace Emporium.Platform.Http;

/// <summary>
/// HEAD on any GET resource (RFC 9110 9.3.2): the request runs as the GET it stands for, so status and headers (ETag,
/// Content-Type, Content-Length) are the GET's, and the body the handler writes is counted and dropped. Minimal API
/// endpoints match GET only, so HEAD answered 405 before; adding HEAD to every endpoint would also list it in OpenAPI.
/// </summary>
public static class HeadRequests
{
    public static IApplicationBuilder UseHeadAsGet(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            if (!HttpMethods.IsHead(context.Request.Method))
            {
                await next(context);
                return;
            }

            var body = context.Response.Body;
            await using var counter = new CountingNullStream();
            context.Request.Method = HttpMethods.Get;
            context.Response.Body = counter;
            try
            {
                await next(context);
            }
            finally
            {
                context.Response.Body = body;
                if (!context.Response.HasStarted)
                {
                    // Back to HEAD before the server writes the headers, so it sends no body (and expects none).
                    context.Request.Method = HttpMethods.Head;
                    if (context.Response.StatusCode is >= 200 and < 300 and not StatusCodes.Status204NoContent)
                    {
                        context.Response.ContentLength ??= counter.Length;
                    }
                }
            }
        });

    private sealed class CountingNullStream : Stream
    {
        private long _length;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _length;

        public override long Position
        {
            get => _length;
            set => throw new NotSupportedException();
        }

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => _length += count;

        public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _length += buffer.Length;
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            _length += count;
            return Task.CompletedTask;
        }
    }
}
