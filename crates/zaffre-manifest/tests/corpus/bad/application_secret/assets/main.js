const key = 'AKIAIOSFODNN7EXAMPLE';
const pem = `-----BEGIN RSA PRIVATE KEY-----
MIIB...`;
