"""Code of the platform's own Lambda functions, one directory per function (packaged by modules.lambda_package)."""
