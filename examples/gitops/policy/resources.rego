# conftest-style rules over every rendered manifest.
package main

import rego.v1

workloads := {"Deployment", "StatefulSet", "DaemonSet"}

# A container without a memory limit can starve its node.
warn contains msg if {
	input.kind in workloads
	some container in input.spec.template.spec.containers
	not container.resources.limits.memory
	msg := sprintf("%s %s: container %q has no memory limit", [input.kind, input.metadata.name, container.name])
}

# Mutable tags make a rollout unrepeatable.
deny contains msg if {
	input.kind in workloads
	some container in input.spec.template.spec.containers
	endswith(container.image, ":latest")
	msg := sprintf("%s %s: container %q uses the mutable tag :latest", [input.kind, input.metadata.name, container.name])
}
