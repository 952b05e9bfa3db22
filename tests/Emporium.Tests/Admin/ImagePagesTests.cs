using System.Net;
using Emporium.Tests.Features.Catalog.Images;
using Emporium.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Emporium.Tests.Admin;

/// <summary>Product images on the product page (issue 15): drop or choose, previews, status while processing, order, alt text, delete.</summary>
public sealed class ImagePagesTests(AdminUiApp app, ChromiumBrowser chromium) : AdminUiTest(app, chromium)
{
    private ILocator Items => Page.Locator("li.image-item");

    private ILocator CardHeading(string name) => Page.GetByRole(AriaRole.Heading, new() { Name = name, Exact = true, Level = 2 });

    [Fact]
    public async Task Images_dropped_and_chosen_on_the_product_page_are_processed_reordered_described_and_deleted()
    {
        var tag = Tag();
        var product = await CreateProductAsync($"Vase {tag}", price: 30m);
        var productId = product.GetProperty("id").GetInt64();
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl($"/products/{productId}"));
        await Expect(CardHeading("Images (0)")).ToBeVisibleAsync();

        // Dropped on the zone, as a file dragged from the desktop arrives.
        await Page.Locator(".dropzone").EvaluateAsync(
            "async (zone, b64) => { const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0)); const data = new DataTransfer(); " +
            "data.items.add(new File([bytes], 'front.webp', { type: 'image/webp' })); " +
            "zone.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true })); }",
            Convert.ToBase64String(TestImages.Eshop("1.webp")));
        await Expect(CardHeading("Images (1)")).ToBeVisibleAsync();

        // Chosen with the file picker, two at once.
        await Page.Locator("#image-files").SetInputFilesAsync(
        [
            new FilePayload { Name = "side.jpg", MimeType = "image/jpeg", Buffer = TestImages.Jpeg(900, 600) },
            new FilePayload { Name = "notes.png", MimeType = "image/png", Buffer = "<html>not an image</html>"u8.ToArray() },
        ]);
        await Expect(Page.Locator("section[aria-labelledby=images-heading] .form-message")).ToContainTextAsync("not a JPEG");
        await Expect(CardHeading("Images (1)")).ToBeVisibleAsync();
        await Page.Locator("#image-files").SetInputFilesAsync(
            new FilePayload { Name = "side.jpg", MimeType = "image/jpeg", Buffer = TestImages.Jpeg(900, 600) });
        await Expect(CardHeading("Images (2)")).ToBeVisibleAsync();

        // The status follows processing without a reload, and the thumbnails load from /media.
        await Expect(Page.Locator("li.image-item[data-status=ready]")).ToHaveCountAsync(2, new() { Timeout = 30_000 });
        await Expect(Items.Nth(0).Locator("img")).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex("/media/images/.*/thumb\\.webp$"));
        var loaded = await Items.Nth(1).Locator("img").EvaluateAsync<int>("img => img.complete ? img.naturalWidth : new Promise(r => img.onload = () => r(img.naturalWidth))");
        loaded.Should().Be(160);

        await Field("Alt text of image 2").FillAsync("Seen from the side");
        await Items.Nth(1).GetByRole(AriaRole.Button, new() { Name = "Save alt text" }).ClickAsync();
        await Expect(Flash).ToHaveTextAsync("Saved the alt text of image 2.");

        await Button("Move image 2 up").ClickAsync();
        await Expect(Flash).ToHaveTextAsync("Moved image 2 up.");
        await Expect(Field("Alt text of image 1")).ToHaveValueAsync("Seen from the side");

        var api = await AdminApiAsync();
        var order = await (await api.GetAsync($"/api/products/{productId}")).ShouldBe(HttpStatusCode.OK);
        order.GetProperty("images")[0].Str("alt_text").Should().Be("Seen from the side");

        Page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await Button("Delete image 2").ClickAsync();
        await Expect(CardHeading("Images (1)")).ToBeVisibleAsync();
        await Expect(Flash).ToHaveTextAsync("Deleted image 2.");
    }
}
