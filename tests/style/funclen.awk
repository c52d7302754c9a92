# Print "FILE LINE NAME LENGTH" for each function definition in the C files
# given: LENGTH counts the lines from the first line of its signature to
# its closing brace. Relies on the house style (clang-format, Linux
# braces): a function's body opens with "{" alone at column 0 and closes
# with "}" alone at column 0, and a signature's first line starts at
# column 0 while its continuation lines are indented.
# POSIX awk (Debian's mawk will do).

# The name a signature defines: the identifier before its first "(",
# once any __attribute__((...)) is out of the way.
function sig_name(sig,    i, c, depth, out, name) {
	while ((i = index(sig, "__attribute__")) > 0) {
		out = substr(sig, 1, i - 1)
		sig = substr(sig, i + 13)
		sub(/^[ \t]*/, "", sig)
		depth = 0
		for (i = 1; i <= length(sig); i++) {
			c = substr(sig, i, 1)
			if (c == "(")
				depth++
			else if (c == ")" && --depth == 0)
				break
		}
		sig = out substr(sig, i + 1)
	}
	i = index(sig, "(")
	if (i == 0)
		return ""
	name = substr(sig, 1, i - 1)
	sub(/[ \t]+$/, "", name)
	sub(/.*[^A-Za-z0-9_]/, "", name)
	return name
}

FNR == 1 {
	in_body = 0
	sig = ""
	sig_line = 0
	in_comment = 0
}

# Skip block comments that start at column 0 (purpose comments).
in_comment {
	if ($0 ~ /\*\//)
		in_comment = 0
	next
}

in_body {
	if ($0 == "}") {
		print FILENAME, sig_line, name, FNR - sig_line + 1
		in_body = 0
		sig = ""
	}
	next
}

/^\/\*/ {
	if ($0 !~ /\*\//)
		in_comment = 1
	sig = ""
	next
}

$0 == "{" {
	if (sig != "" && (name = sig_name(sig)) != "")
		in_body = 1
	sig = ""
	next
}

# A new top-level line: it may begin a signature.
/^[A-Za-z_]/ {
	sig = $0
	sig_line = FNR
	next
}

# An indented line continues the signature being read, if any.
/^[ \t]/ {
	if (sig != "")
		sig = sig " " $0
	next
}

{
	sig = ""
}
