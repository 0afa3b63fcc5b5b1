# The legacy VMs' base AMI: Debian 12 with the base hardening role applied by Ansible.
#   cd packer && packer build -var 'release=2026.11.30' base.pkr.hcl
# AWS credentials come from the environment (the pipeline's OIDC role, or an SSO profile);
# none is written here. Checked in tests with `packer validate` and `packer fmt -check`.

variable "region" {
  type        = string
  default     = "us-east-1"
  description = "Region the AMI is built and registered in."
}

variable "instance_type" {
  type        = string
  default     = "t3.small"
  description = "Builder instance; the hardening needs no more."
}

variable "release" {
  type        = string
  description = "A name for this build of the AMI, e.g. the date and commit."
}

variable "subnet_id" {
  type        = string
  default     = ""
  description = "Private subnet for the builder (empty: the default VPC); it reaches SSH through the session manager or a bastion."
}

variable "kms_key_id" {
  type        = string
  default     = "alias/aws/ebs"
  description = "KMS key the AMI's volumes are encrypted with."
}

variable "ami_users" {
  type        = list(string)
  default     = []
  description = "Accounts (staging, prod) the AMI is shared with."
}

source "amazon-ebs" "base" {
  region        = var.region
  instance_type = var.instance_type
  subnet_id     = var.subnet_id
  ami_name      = "hyperscale-base-debian12-${var.release}"
  ami_users     = var.ami_users
  ssh_username  = "admin"

  # The newest official Debian 12 image (Debian's own account).
  source_ami_filter {
    filters = {
      name                = "debian-12-amd64-*"
      architecture        = "x86_64"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = ["136693071363"]
    most_recent = true
  }

  encrypt_boot = true
  kms_key_id   = var.kms_key_id

  launch_block_device_mappings {
    device_name           = "/dev/xvda"
    volume_size           = 16
    volume_type           = "gp3"
    iops                  = 3000
    throughput            = 125
    delete_on_termination = true
    encrypted             = true
  }

  tags = {
    Name       = "hyperscale-base"
    Release    = var.release
    ManagedBy  = "packer"
    BaseRole   = "playbooks/roles/base"
    SourceAMI  = "{{ .SourceAMI }}"
    SourceName = "{{ .SourceAMIName }}"
  }
  run_tags = {
    Name      = "packer-hyperscale-base"
    ManagedBy = "packer"
  }
}

build {
  sources = ["source.amazon-ebs.base"]

  # Ansible wants Python on the target; Debian's cloud image has it, this just waits for cloud-init.
  provisioner "shell" {
    inline = ["cloud-init status --wait || true"]
  }

  provisioner "ansible" {
    playbook_file = "${path.root}/../playbooks/base.yml"
    user          = "admin"
    use_proxy     = false
    extra_arguments = [
      "--extra-vars", "ansible_python_interpreter=/usr/bin/python3",
      # The builder's session ends before a reboot; services start on the AMI's first boot.
      "--extra-vars", "base_apply_sysctl=false",
    ]
    ansible_env_vars = ["ANSIBLE_CONFIG=${path.root}/../playbooks/ansible.cfg"]
  }

  post-processor "manifest" {
    output     = "manifest.json"
    strip_path = true
  }
}
