// Mints a signed identity the way a Node plugin runner would, with jsonwebtoken:
//   node mint.mjs USER PLUGIN [ALGORITHM]   (the secret comes from OI_E2E_IDENTITY_SECRET)
import jwt from 'jsonwebtoken';

const [user, plugin, algorithm = 'HS256'] = process.argv.slice(2);
const token = jwt.sign({ sub: user, plugin }, process.env.OI_E2E_IDENTITY_SECRET, {
  algorithm,
  expiresIn: '5m',
});
process.stdout.write(token);
