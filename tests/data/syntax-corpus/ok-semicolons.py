import os; import sys
x = 1; y = 2;
if x: z = 3
for i in range(2): pass
