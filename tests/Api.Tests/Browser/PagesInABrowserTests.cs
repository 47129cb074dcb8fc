using System.Text.RegularExpressions;
using Microsoft.Playwright;
using OrderFlow.Api.Tests.Infrastructure;

namespace OrderFlow.Api.Tests.Browser;

/// <summary>What a person sees in a real browser: the dashboard behind the admin key, and the live statistics page.</summary>
public sealed partial class PagesInABrowserTests(ApiHostFixture fixture, Chromium chromium) : IClassFixture<ApiHostFixture>, IClassFixture<Chromium>
{
    private ApiHost Host => fixture.Host;

    [Fact]
    public async Task A_browser_gets_into_the_dashboard_with_the_admin_key_as_basic_password_and_not_without_it()
    {
        var browser = chromium.Require();

        await using (var anonymous = await browser.NewContextAsync())
        {
            // A browser without credentials is challenged for Basic (navigating would open the login prompt).
            var refused = await anonymous.APIRequest.GetAsync(new Uri(Host.BaseAddress, "/dashboard/").ToString());
            Assert.Equal(401, refused.Status);
            Assert.StartsWith("Basic", refused.Headers["www-authenticate"], StringComparison.Ordinal);
        }

        await using var admin = await browser.NewContextAsync(new() { HttpCredentials = new() { Username = "ops", Password = ApiHost.AdminKey } });
        var dashboard = await admin.NewPageAsync();
        var response = await dashboard.GotoAsync(new Uri(Host.BaseAddress, "/dashboard").ToString());

        Assert.Equal(200, response?.Status);
        Assert.EndsWith("/dashboard/", dashboard.Url);
        await Assertions.Expect(dashboard).ToHaveTitleAsync(DashboardTitle());
    }

    [Fact]
    public async Task The_live_page_shows_orders_as_they_arrive_once_given_a_reader_key()
    {
        var browser = chromium.Require();
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(Host.BaseAddress.ToString());

        // Without a key the data calls are refused, and the page says so.
        await Assertions.Expect(page.Locator("#status")).ToContainTextAsync("401");

        await page.FillAsync("#api-key", ApiHost.ReaderKey);
        await page.ClickAsync("#key-form button");
        await Assertions.Expect(page.Locator("#status")).ToContainTextAsync("Updated");
        var before = long.Parse(await page.InnerTextAsync("#placed"), System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.InvariantCulture);

        var orderId = TestOrders.NewId("live");
        await Host.PlaceAsync(orderId);

        // The page polls every two seconds; the placement travels through the stream meanwhile.
        await Assertions.Expect(page.Locator("#placed")).ToHaveTextAsync((before + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), new() { Timeout = 20_000 });
        await Assertions.Expect(page.Locator("#chart div:not(.empty)")).Not.ToHaveCountAsync(0);
    }

    [GeneratedRegex("Orleans", RegexOptions.IgnoreCase)]
    private static partial Regex DashboardTitle();
}
