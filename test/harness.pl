#!/usr/bin/perl
# Run every TAP test of stellapolicy and print one summary line.
#
#   test/harness.pl [--regress-passed N --regress-failed N] FILE...
#
# FILE is a pgTAP file (*.sql, run with psql against $SP_TEST_DB), an
# executable (a compiled unit test), or a script (*.t run with bash, *.pl
# with perl).  The pg_regress counts, run before, are added to the totals.
# The last line is "N passed, N failed" for CI.
use strict;
use warnings;
use Getopt::Long;
use TAP::Harness;

my ($rp, $rf) = (0, 0);
GetOptions('regress-passed=i' => \$rp, 'regress-failed=i' => \$rf) or die "bad options\n";
my $db = $ENV{SP_TEST_DB} || 'stellapolicy_test';

my $harness = TAP::Harness->new({
	verbosity => ($ENV{SP_VERBOSE} ? 1 : 0),
	# A failure shows with its diagnostics even when not verbose, so that a
	# red CI log says why.
	failures  => 1,
	comments  => 1,
	color     => 0,
	exec      => sub {
		my ($h, $file) = @_;
		return ['psql', '-X', '-q', '--no-align', '--tuples-only',
				'-v', 'ON_ERROR_STOP=1', '-d', $db, '-f', $file] if $file =~ /\.sql$/;
		return ['bash', $file] if $file =~ /\.(t|sh)$/;
		return ['perl', $file] if $file =~ /\.pl$/;
		return [$file];
	},
});

my $agg = $harness->runtests(@ARGV);
my $passed = scalar($agg->passed) + $rp;
my $failed = scalar($agg->failed) + $rf;
# Files that died or planned wrongly count as failures too.
for my $d ($agg->descriptions) {
	my ($p) = $agg->parsers($d);
	$failed++ if $p->has_problems && !$p->failed;
}
printf "%d passed, %d failed\n", $passed, $failed;
exit($failed ? 1 : 0);
