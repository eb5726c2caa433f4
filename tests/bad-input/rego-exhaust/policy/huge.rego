package main

import rego.v1

# Asks for a trillion-element array: the policy plugin fails that call
# (its memory or its allocator gives out), and nothing else.
deny contains msg if {
	input.kind == "ConfigMap"
	n := count([x | some x in numbers.range(1, 1000000000000)])
	msg := sprintf("counted %d", [n])
}
