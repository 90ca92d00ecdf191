using Jobd.Outcomes;
using Npgsql;
using Xunit;

namespace Jobd.Tests.Outcomes;

/// <summary>Which refusals are the row's fault (stored minimal, then skipped) and which are outages (the batch waits).</summary>
public sealed class OutcomeSinkRowErrorTests
{
    [Theory]
    [InlineData("22P05", true)]  // jsonb: \u0000
    [InlineData("22008", true)]  // a timestamp out of range
    [InlineData("23514", true)]  // a check constraint
    [InlineData("54000", true)]  // an index row too large
    [InlineData("25006", false)] // read-only: a failover, not this row
    [InlineData("53100", false)] // disk full
    [InlineData("53300", false)] // too many clients
    [InlineData("57014", false)] // cancelled: a timeout
    [InlineData("57P01", false)] // terminated
    [InlineData("42P01", false)] // the table is gone: migrate again
    [InlineData("40001", false)]
    public void Only_data_errors_are_the_rows_fault(string sqlState, bool rowError) =>
        Assert.Equal(rowError, OutcomeSink.IsRowError(new PostgresException("refused", "ERROR", "ERROR", sqlState)));

    [Fact]
    public void A_cut_error_never_ends_in_half_a_surrogate_pair()
    {
        Assert.Equal("abc", OutcomeWriter.Cut("abc", 5));
        Assert.Equal("ab", OutcomeWriter.Cut("abcdef", 2));
        Assert.Equal("a", OutcomeWriter.Cut("a\U0001F600b", 2)); // the emoji's high surrogate would be at index 1
        Assert.Equal("a\U0001F600", OutcomeWriter.Cut("a\U0001F600b", 3));
    }
}
