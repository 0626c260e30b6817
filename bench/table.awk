# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The results table of the benchmarks, from result rows: one JSON object per
# line, as bench_emit() prints them and as bench/run.sh writes them into the
# "results" array of bench.json (a trailing comma is allowed).  Other lines
# are ignored.
#
#   awk -f bench/table.awk [-v markdown=1] FILE...
#
# Columns: figure, case, txcancel (median, min..max, unit), baseline (median,
# min..max), ratio, target, met.  Below the table: what each figure's
# baseline and ratio are, then the notes (exact counts, where the time goes).

# A JSON string starting at s[i] (a quote): sets STR, returns the index after it.
function jstr(s, i,    out, c, n) {
	out = ""
	n = length(s)
	for (i++; i <= n; i++) {
		c = substr(s, i, 1)
		if (c == "\"")
			break
		if (c == "\\") {
			c = substr(s, ++i, 1)
			if (c == "u") {
				c = "?"
				i += 4
			} else if (c == "n" || c == "t" || c == "r") {
				c = " "
			}
		}
		out = out c
	}
	STR = out
	return i + 1
}

# One flat JSON object into F[key] (null -> ""); 0 if the line is not one.
function parse(s,    i, n, c, key, start) {
	split("", F)
	n = length(s)
	i = index(s, "{")
	if (!i)
		return 0
	for (i++; i <= n; ) {
		c = substr(s, i, 1)
		if (c == "}")
			return 1
		if (c == "," || c == " ") {
			i++
			continue
		}
		if (c != "\"")
			return 0
		i = jstr(s, i)
		key = STR
		while (i <= n && substr(s, i, 1) != ":")
			i++
		for (i++; substr(s, i, 1) == " "; i++)
			;
		if (substr(s, i, 1) == "\"") {
			i = jstr(s, i)
			F[key] = STR
		} else {
			for (start = i; i <= n && substr(s, i, 1) !~ /[,}]/; i++)
				;
			F[key] = substr(s, start, i - start)
			if (F[key] == "null")
				F[key] = ""
		}
	}
	return 0
}

function num(v,    a) {
	if (v == "")
		return "-"
	v += 0
	a = v < 0 ? -v : v
	return a >= 1000 ? sprintf("%.0f", v) : sprintf("%.4g", v)
}

function stat(p, unit,    s) {
	if (F[p] == "")
		return "-"
	s = num(F[p])
	if (F[p "_runs"] > 1)
		s = s " (" num(F[p "_min"]) ".." num(F[p "_max"]) ")"
	return unit == "" ? s : s " " unit
}

function cell(s) {
	if (markdown)
		gsub(/\|/, "\\|", s)
	return s
}

/"figure"/ {
	if (!parse($0) || F["figure"] == "")
		next
	n++
	C[n, 1] = F["figure"]
	C[n, 2] = F["name"]
	C[n, 3] = stat("value", F["unit"])
	C[n, 4] = stat("baseline", "")
	C[n, 5] = num(F["ratio"])
	C[n, 6] = F["target"]
	C[n, 7] = F["met"] == "true" ? "yes" : F["met"] == "false" ? "NO" : "-"
	NOTE[n] = F["note"]
	key = F["figure"] SUBSEP F["baseline_name"] SUBSEP F["ratio_name"]
	if (!(key in seen) && (F["baseline_name"] != "" || F["ratio_name"] != "")) {
		seen[key] = 1
		legend[++nl] = F["figure"] ": " \
			(F["baseline_name"] != "" ? "baseline = " F["baseline_name"] : "no baseline") \
			(F["ratio_name"] != "" ? "; ratio = " F["ratio_name"] : "")
	}
}

END {
	split("figure|case|txcancel (min..max)|baseline (min..max)|ratio|target|met", H, "|")
	if (!n) {
		print "(no result rows)"
		exit
	}
	if (markdown) {
		line = "|"
		sep = "|"
		for (j = 1; j <= 7; j++) {
			line = line " " H[j] " |"
			sep = sep (j == 3 || j == 4 || j == 5 ? "---:|" : "---|")
		}
		print line
		print sep
		for (i = 1; i <= n; i++) {
			line = "|"
			for (j = 1; j <= 7; j++)
				line = line " " cell(C[i, j]) " |"
			print line
		}
		print ""
		for (i = 1; i <= nl; i++)
			print "- " legend[i]
		print ""
		for (i = 1; i <= n; i++)
			if (NOTE[i] != "")
				print "- " cell(C[i, 1] " " C[i, 2]) ": " cell(NOTE[i])
		exit
	}
	for (j = 1; j <= 7; j++)
		W[j] = length(H[j])
	for (i = 1; i <= n; i++)
		for (j = 1; j <= 7; j++)
			if (length(C[i, j]) > W[j])
				W[j] = length(C[i, j])
	fmt = "%-" W[1] "s  %-" W[2] "s  %" W[3] "s  %" W[4] "s  %" W[5] "s  %-" W[6] "s  %s\n"
	printf fmt, H[1], H[2], H[3], H[4], H[5], H[6], H[7]
	for (i = 1; i <= n; i++)
		printf fmt, C[i, 1], C[i, 2], C[i, 3], C[i, 4], C[i, 5], C[i, 6], C[i, 7]
	print ""
	for (i = 1; i <= nl; i++)
		print "  " legend[i]
	for (i = 1; i <= n; i++)
		if (NOTE[i] != "")
			print (noted++ ? "" : "notes:\n") "  " C[i, 1] " " C[i, 2] ": " NOTE[i]
}
