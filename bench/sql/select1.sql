-- select1: the round-trip reference. Nothing is cheaper for the server to answer.
SELECT 1;
