#!/usr/bin/perl
# Reference for "dpkg": Dpkg::Version (libdpkg-perl, dpkg's own code) for the
# order; validity as dpkg's C parseversion() decides it, errors and warnings
# alike: version_check() plus the two rules only the C code has (revision
# characters, epoch at most INT_MAX, nothing empty after the epoch) and
# dpkg's trimming of blanks.  Pairs with digit runs longer than 15 digits go
# to the dpkg binary, because Dpkg::Version compares numbers as doubles.
use strict;
use warnings;
use Dpkg::Version;

sub valid {
    my ($v) = @_;
    $v =~ s/^\s+//;
    $v =~ s/\s+$//;
    return 0 if $v eq '' or $v =~ /\s/;
    return 0 unless Dpkg::Version::version_check($v);
    my $obj = Dpkg::Version->new($v);
    return 0 if $obj->epoch() ne '' and length($obj->epoch()) > 0
        and $obj->epoch() =~ /^\d+$/ and $obj->epoch() + 0 > 2147483647;
    return 0 if $v =~ /^:/ or $v =~ /^[^:]*:$/ or $v =~ /^[^:]*:-/;
    my $rev = $obj->revision();
    return 0 if $v =~ /-/ and $rev =~ /[^a-zA-Z0-9.+~]/;
    return 1;
}

while (my $line = <STDIN>) {
    chomp $line;
    next if $line eq '';
    my ($a, $b) = split /\t/, $line, -1;
    if (!valid($a) or !valid($b)) { print "ERR\n"; next; }
    (my $ta = $a) =~ s/^\s+|\s+$//g;
    (my $tb = $b) =~ s/^\s+|\s+$//g;
    my $c;
    if ("$ta$tb" =~ /\d{16}/) {
        # Dpkg::Version compares digit runs as Perl numbers (doubles); the
        # C code compares them exactly, so ask the dpkg binary itself.
        $c = system('dpkg', '--compare-versions', $ta, 'eq', $tb) == 0 ? 0
           : (system('dpkg', '--compare-versions', $ta, 'lt', $tb) == 0 ? -1 : 1);
    } else {
        $c = version_compare($ta, $tb);
    }
    print(($c < 0) ? "-1\n" : (($c > 0) ? "1\n" : "0\n"));
}
