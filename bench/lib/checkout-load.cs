// Checkout load for bench/checkout.sh: N customers (each with its own access token), each in a loop adding one unit of
// a variant to its cart and checking out, for a fixed time. Prints checkouts per second and the latency of
// POST /api/orders (p50, p99), plus how many answers were 409 (short) and anything unexpected.
//   dotnet run bench/lib/checkout-load.cs -- BASE_URL TOKENS_FILE VARIANT_IDS_FILE SECONDS
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

var (baseUrl, tokensFile, variantsFile, seconds) = (args[0], args[1], args[2], double.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture));
var tokens = File.ReadAllLines(tokensFile).Where(l => l.Length > 0).ToArray();
var variants = File.ReadAllLines(variantsFile).Where(l => l.Length > 0).Select(long.Parse).ToArray();
var handler = new SocketsHttpHandler { MaxConnectionsPerServer = tokens.Length * 2, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
using var http = new HttpClient(handler) { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(60) };
var latencies = new List<double>[tokens.Length];
var created = 0;
var conflicts = 0;
var unexpected = 0;
var until = Stopwatch.StartNew();
await Task.WhenAll(tokens.Select((token, i) => Task.Run(async () =>
{
    latencies[i] = [];
    var random = new Random(i);
    while (until.Elapsed.TotalSeconds < seconds)
    {
        var variant = variants[random.Next(variants.Length)];
        using var add = new HttpRequestMessage(HttpMethod.Post, "/api/cart/items")
        {
            Content = new StringContent($"{{\"variant_id\":{variant},\"quantity\":1}}", Encoding.UTF8, "application/json"),
        };
        add.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using (var added = await http.SendAsync(add))
        {
            if (added.StatusCode != HttpStatusCode.OK)
            {
                Interlocked.Increment(ref unexpected);
                continue;
            }
        }

        using var order = new HttpRequestMessage(HttpMethod.Post, "/api/orders") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        order.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        order.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        var started = Stopwatch.GetTimestamp();
        using var answer = await http.SendAsync(order);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        switch (answer.StatusCode)
        {
            case HttpStatusCode.Created:
                Interlocked.Increment(ref created);
                latencies[i].Add(elapsed);
                break;
            case HttpStatusCode.Conflict:
                Interlocked.Increment(ref conflicts);
                break;
            default:
                Interlocked.Increment(ref unexpected);
                Console.Error.WriteLine($"unexpected {(int)answer.StatusCode}: {await answer.Content.ReadAsStringAsync()}");
                break;
        }
    }
})));
var wall = until.Elapsed.TotalSeconds;
var all = latencies.SelectMany(l => l).Order().ToArray();
double Percentile(double p) => all.Length == 0 ? double.NaN : all[Math.Min(all.Length - 1, (int)Math.Ceiling(p * all.Length) - 1)];
Console.WriteLine(FormattableString.Invariant(
    $"checkouts={created} per_second={created / wall:F1} p50_ms={Percentile(0.50):F1} p99_ms={Percentile(0.99):F1} conflicts={conflicts} unexpected={unexpected} seconds={wall:F1}"));
