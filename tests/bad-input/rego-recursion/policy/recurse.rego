package main

import rego.v1

f(x) := y if {
	y := f(x + 1)
}

deny contains msg if {
	input.kind == "ConfigMap"
	msg := sprintf("%v", [f(0)])
}
