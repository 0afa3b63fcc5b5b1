// The real node's pod sandbox ("pause") program, built by scripts/build-k8s.sh (component node):
// no image can be pulled from a public registry here, so the sandbox image is made locally.
module hyperscale.local/tools/k8s/pause

go 1.26.0
