"""Strings with quotes, escapes and prefixes."""
a = 'it\'s'
b = "say \"hi\""
c = """a "quoted" word and a ' single"""
d = '''triple single with """ inside'''
e = r"C:\path\to\file"
f = b"\x00\xff"
g = "colon at end:"
h = "line one\
line two"
i = u"unicode \u00e9"
j = "# not a comment"
