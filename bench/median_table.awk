# median_table.awk - the median over rounds of every RESULT line of two
# programs' outputs (tt_bench, torch_bench.py), side by side, with a speed-up.
# Used by compare.sh and ab.sh:
#
#   awk -f median_table.awk -v left=tt -v right=torch -v left_label=TinyTorch \
#       -v right_label=PyTorch -v subject=left -v decimals=2 DIR/tt.*.txt DIR/torch.*.txt
#
# A file belongs to `left` or `right` by its name (DIR/<left>.N.txt). The
# speed-up is the one of `subject` over the other side: other time / subject
# time, and for rates (units ending in /s: images/s, GFLOP/s) subject / other.
function med(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; ++i) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; --j) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
FNR == 1 { side = (FILENAME ~ ("/" left "\\.[0-9]+\\.txt$")) ? "left" : "right" }
$1 == "RESULT" && $2 != "threads" {
    if (!($2 in unit)) { order[++n] = $2; unit[$2] = $4 }
    vals[side, $2] = vals[side, $2] " " $3
}
END {
    printf "%-28s %16s %16s %10s\n", "metric", left_label, right_label, "speed-up"
    for (i = 1; i <= n; ++i) {
        m = order[i]
        if (!((("left", m) in vals) && (("right", m) in vals))) continue
        a = med(vals["left", m]); b = med(vals["right", m])
        s = subject == "left" ? a : b; o = subject == "left" ? b : a
        ratio = unit[m] ~ /\/s$/ ? (o > 0 ? s / o : 0) : (s > 0 ? o / s : 0)
        u = unit[m] == "images/s" ? "img/s" : unit[m]
        printf "%-28s %16s %16s %9." decimals "fx\n", m, sprintf("%.4g %s", a, u), sprintf("%.4g %s", b, u), ratio
    }
}
