# A tiny stand-in for libtext-names-perl's Text/Names.pm: the same heredoc
# layout (name, percent, cumulative percent, rank), made up for the tests.
$COMMON_MALE_FIRSTNAMES = <<ENDNAMES;
JOHN           3.271  3.271      1
BOB            0.500  3.771      2
WILL           0.400  4.171      3
MARK           0.300  4.471      4
ENDNAMES

$COMMON_FEMALE_FIRSTNAMES = <<ENDNAMES;
MARY           2.629  2.629      1
ANN            1.000  3.629      2
ROSE           0.500  4.129      3
ENDNAMES

$COMMON_SURNAMES = <<ENDNAMES;
SMITH          1.006  1.006      1 JOHNSON        0.810  1.816      2
LEE            0.400  2.216      3
ENDNAMES
