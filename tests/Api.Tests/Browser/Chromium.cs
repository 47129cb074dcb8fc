using Microsoft.Playwright;

namespace OrderFlow.Api.Tests.Browser;

/// <summary>
/// Debian's Chromium driven by Playwright (browser downloads do not work here, so Playwright is
/// pointed at the system binary). .ci/run installs Chromium; without it, locally, the browser
/// tests are skipped with a message saying how to get it.
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    private IPlaywright? playwright;

    public IBrowser? Browser { get; private set; }

    public static string? ExecutablePath =>
        Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } path ? path
        : new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists);

    public async ValueTask InitializeAsync()
    {
        if (ExecutablePath is not { } executable)
        {
            return;
        }

        // Playwright's 5 s suits a machine doing nothing else; here other test classes run beside
        // the browser, the API and Azurite on two cores.
        Assertions.SetDefaultExpectTimeout(20_000);
        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = executable,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    /// <summary>The browser, or a skip (a failure under CI, which must have installed it).</summary>
    public IBrowser Require()
    {
        if (Browser is null)
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "Chromium is missing under CI: .ci/run installs it.");
            Assert.Skip("Chromium is not installed (apt-get install chromium, or set CHROMIUM_PATH).");
        }

        return Browser!;
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        playwright?.Dispose();
    }
}
