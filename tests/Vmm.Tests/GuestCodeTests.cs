using Sim.Vmm.Toy;

namespace Sim.Vmm.Tests;

/// <summary>The guest page of both test versions against the offsets of the ABI notes §6.2 and <c>guest.s</c>.</summary>
[TestClass]
public sealed class GuestCodeTests
{
    [TestMethod]
    public void The1905PageHasHltHltJmpSelfHltAtTheResetVectorInAZeroedPage()
    {
        var page = GuestCode.Genode1905Page();
        Assert.AreEqual(4096, page.Length);
        CollectionAssert.AreEqual(new byte[] { 0xf4, 0xf4, 0xeb, 0xfe, 0xf4 }, page[0xff0..0xff5]);
        Assert.IsTrue(page[..0xff0].All(b => b == 0));
        Assert.IsTrue(page[0xff5..].All(b => b == 0));
    }

    [TestMethod]
    public void TheCurrentPagePlacesTheCodeAsGuestSDoes()
    {
        var page = GuestCode.CurrentPage();
        Assert.AreEqual(4096, page.Length);
        Assert.IsTrue(page[..0xf7e].All(b => b == 0x90), "NOP fill before the code");
        CollectionAssert.AreEqual(new byte[] { 0x0f, 0x01, 0xf9 }, page[0xf7e..0xf81], "RDTSCP");
        Assert.AreEqual(0xf4, page[0xf81]);
        Assert.AreEqual(0xf4, page[0xf82]);
        CollectionAssert.AreEqual(new byte[] { 0xeb, 0xfe }, page[0xf83..0xf85], "JMP $");
        Assert.AreEqual(0xf4, page[0xf85]);
        CollectionAssert.AreEqual(new byte[] { 0xeb, 0xfe }, page[0xf86..0xf88], "JMP $");
        Assert.IsTrue(page[0xf88..0xff0].All(b => b == 0x90), "NOP fill up to the reset vector");
        Assert.IsTrue(page[0xff2..].All(b => b == 0xf4), "HLT to the end of the page");
    }

    [TestMethod]
    public void TheResetVectorJumpsShortBackToTheCode()
    {
        var page = GuestCode.CurrentPage();
        Assert.AreEqual(0xeb, page[0xff0], "JMP rel8");
        int target = 0xff2 + (sbyte)page[0xff1];
        Assert.AreEqual(0xf7e, target);
    }
}
