terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 6.28 adds aws_lambda_permission.invoked_via_function_url: since October 2025 a public Function URL needs
      # lambda:InvokeFunction (via the URL) besides lambda:InvokeFunctionUrl.
      version = ">= 6.28.0, < 7.0.0"
    }
  }
}
