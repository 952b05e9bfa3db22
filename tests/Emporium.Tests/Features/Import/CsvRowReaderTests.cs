using System.Text;
using Emporium.Features.Import;

namespace Emporium.Tests.Features.Import;

public sealed class CsvRowReaderTests
{
    [Fact]
    public async Task Reads_the_acme_file_exactly_with_line_breaks_inside_quotes_and_no_final_newline()
    {
        var records = await ImportData.ReadAllAsync(ImportData.Gzipped("acme-products-head2000.csv.gz"));

        records.Should().HaveCount(2001);
        records.Should().OnlyContain(r => r.Error == null && r.Fields.Length == 3);
        records[0].Fields.Should().Equal("name", "sku", "description");
        var manyLines = records.Single(r => r.Fields[1] == "do-many-avoid");
        manyLines.Line.Should().Be(9);
        manyLines.Fields[2].Should().Be(
            "Born tree wind.\nBoy marriage begin value. Record health laugh ask under notice federal. Hard lose need sell treatment.\n" +
            "Certain throw executive front late. Because truth risk.");
        records.Single(r => r.Fields[1] == "help-return-art").Line.Should().Be(12);
        records[^1].Fields[1].Should().Be("only-yourself-these");
        records[^1].Fields[2].Should().EndWith("since.");
    }

    [Fact]
    public async Task Gives_the_same_records_whatever_the_read_sizes()
    {
        var bytes = Encoding.UTF8.GetBytes("\uFEFFsku,name\r\n\"a\r\nb\",\"x\"\"y\"\r\nc,Ünïcode\n\"\",\"\"\r\nlast,row");
        var whole = await ImportData.ReadAllAsync(new MemoryStream(bytes));
        foreach (var chunk in new[] { 1, 2, 3, 7 })
        {
            var trickled = await ImportData.ReadAllAsync(ImportData.Trickle(bytes, chunk), bufferSize: 1024);
            trickled.Should().BeEquivalentTo(whole, o => o.WithStrictOrdering());
        }

        whole.Select(r => r.Line).Should().Equal(1, 2, 4, 5, 6);
        whole[0].Fields.Should().Equal("sku", "name");
        whole[1].Fields.Should().Equal("a\r\nb", "x\"y");
        whole[2].Fields.Should().Equal("c", "Ünïcode");
        whole[3].Fields.Should().Equal("", "");
        whole[4].Fields.Should().Equal("last", "row");
    }

    [Fact]
    public async Task Counts_a_lone_cr_inside_quotes_as_a_line_as_files_with_cr_line_ends_have_it_whatever_the_read_sizes()
    {
        // Saved with CR line ends (Excel for Mac's "CSV (Macintosh)"): the break inside a quoted field is a CR too; so is one
        // just before a closing quote, and one before an escaped quote.
        var bytes = Encoding.UTF8.GetBytes("sku,name,description\rA1,N,\"two\rlines\"\rB2,,x\rC3,M,\"end\r\"\rD4,M,\"q\r\"\"\"\rE5,M,\"crlf\r\nkept\"\rF6,,y");
        var whole = await ImportData.ReadAllAsync(new MemoryStream(bytes));
        foreach (var chunk in new[] { 1, 2, 3, 7 })
        {
            var trickled = await ImportData.ReadAllAsync(ImportData.Trickle(bytes, chunk), bufferSize: 1024);
            trickled.Should().BeEquivalentTo(whole, o => o.WithStrictOrdering());
        }

        whole.Select(r => (r.Line, r.Fields[0])).Should().Equal((1, "sku"), (2, "A1"), (4, "B2"), (5, "C3"), (7, "D4"), (9, "E5"), (11, "F6"));
    }

    [Fact]
    public async Task Skips_blank_lines_and_keeps_an_empty_last_field()
    {
        var records = await ImportData.ReadAllAsync(ImportData.Text("sku,name\n\na,\n\r\nb,c,"));

        records.Select(r => r.Line).Should().Equal(1, 3, 5);
        records[1].Fields.Should().Equal("a", "");
        records[2].Fields.Should().Equal("b", "c", "");
    }

    [Fact]
    public async Task Rejects_a_row_with_invalid_utf8_and_reads_on()
    {
        var bytes = Encoding.UTF8.GetBytes("sku,name\nok-1,Fine\nbad,").Concat(new byte[] { 0xC3, 0x28, 0xFF })
            .Concat(Encoding.UTF8.GetBytes("\nok-2,Also fine")).ToArray();

        var records = await ImportData.ReadAllAsync(new MemoryStream(bytes));

        records.Should().HaveCount(4);
        records[2].Line.Should().Be(3);
        records[2].Error.Should().Contain("UTF-8");
        records[3].Error.Should().BeNull();
        records[3].Fields.Should().Equal("ok-2", "Also fine");
    }

    [Fact]
    public async Task Reports_an_unterminated_quote_at_the_end_of_the_file_on_the_line_it_opened()
    {
        var records = await ImportData.ReadAllAsync(ImportData.Text("sku,name\nok,Fine\nbad,\"never closed\nstill inside"));

        records.Should().HaveCount(3);
        records[2].Line.Should().Be(3);
        records[2].Error.Should().Contain("unterminated");
        records[1].Error.Should().BeNull();
    }

    [Fact]
    public async Task Flags_text_after_a_closing_quote()
    {
        var records = await ImportData.ReadAllAsync(ImportData.Text("sku,name\n\"a\"b,c\nd,e"));

        records[1].Error.Should().Contain("closing quote");
        records[2].Error.Should().BeNull();
    }

    [Fact]
    public async Task Says_when_a_file_is_empty_or_binary()
    {
        var empty = new CsvRowReader(new MemoryStream([0xEF, 0xBB, 0xBF]));
        (await empty.ReadAsync()).Should().BeNull();
        empty.IsEmpty.Should().BeTrue();

        var binary = new CsvRowReader(new MemoryStream([0x50, 0x4B, 0x03, 0x04, 0x00, 0x00, 0x0A]));
        await binary.ReadAsync();
        binary.LooksBinary.Should().BeTrue();
    }

    [Fact]
    public async Task Keeps_memory_bounded_when_a_quote_is_never_closed_in_a_large_file()
    {
        var line = Encoding.UTF8.GetBytes("row,with some text that goes on for a while\n");
        var bytes = new List<byte>(Encoding.UTF8.GetBytes("sku,name\nstray,\"opens here\n"));
        while (bytes.Count < 3 * CsvRowReader.MaxFieldBytes)
        {
            bytes.AddRange(line);
        }

        var records = await ImportData.ReadAllAsync(new MemoryStream(bytes.ToArray()));

        records.Should().HaveCount(2);
        records[1].Line.Should().Be(2);
        records[1].Error.Should().Contain("unterminated");
        records[1].Fields[1].Length.Should().BeLessThanOrEqualTo(CsvRowReader.MaxFieldBytes);
    }

    [Fact]
    public async Task Caps_the_fields_of_a_row_of_separators()
    {
        var records = await ImportData.ReadAllAsync(ImportData.Text("sku,name\n" + new string(',', 50_000) + "\nok,Fine"));

        records[1].Error.Should().Contain("more than");
        records[1].Fields.Length.Should().Be(CsvRowReader.MaxFields);
        records[2].Fields.Should().Equal("ok", "Fine");
    }
}
