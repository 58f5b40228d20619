"""The options every auth collection has, with PocketBase's defaults (0.40.6).

Token secrets are added per collection when it is created and never leave the server.
"""

from __future__ import annotations

from typing import Any

#: an OAuth2 provider's settings (clientSecret never leaves the server)
PROVIDER_DEFAULTS: dict[str, Any] = {
    "pkce": None, "name": "", "clientId": "", "clientSecret": "", "authURL": "", "tokenURL": "", "userInfoURL": "", "displayName": "", "extra": {},
}
TOKEN_OPTIONS = ("authToken", "passwordResetToken", "emailChangeToken", "verificationToken", "fileToken")

AUTH_DEFAULTS: dict[str, Any] = {'authAlert': {'enabled': True,
               'emailTemplate': {'subject': 'Login from a new location',
                                 'body': '<p>Hello,</p>\n'
                                         '<p>We noticed a login to your {APP_NAME} account from a '
                                         'new location:</p>\n'
                                         '<p><em>{ALERT_INFO}</em></p>\n'
                                         "<p><strong>If this wasn't you, you should immediately "
                                         'change your {APP_NAME} account password to revoke access '
                                         'from all other locations.</strong></p>\n'
                                         '<p>If this was you, you may disregard this email.</p>\n'
                                         '<p>\n'
                                         '  Thanks,<br/>\n'
                                         '  {APP_NAME} team\n'
                                         '</p>'}},
 'oauth2': {'providers': [],
            'mappedFields': {'id': '', 'name': '', 'username': '', 'avatarURL': ''},
            'enabled': False},
 'passwordAuth': {'enabled': True, 'identityFields': ['email']},
 'mfa': {'enabled': False, 'duration': 600, 'rule': ''},
 'otp': {'enabled': False,
         'duration': 180,
         'length': 8,
         'emailTemplate': {'subject': 'OTP for {APP_NAME}',
                           'body': '<p>Hello,</p>\n'
                                   '<p>Your one-time password is: <strong>{OTP}</strong></p>\n'
                                   "<p><i>If you didn't ask for the one-time password, you can "
                                   'ignore this email.</i></p>\n'
                                   '<p>\n'
                                   '  Thanks,<br/>\n'
                                   '  {APP_NAME} team\n'
                                   '</p>'}},
 'authToken': {'duration': 432000},
 'passwordResetToken': {'duration': 1800},
 'emailChangeToken': {'duration': 1800},
 'verificationToken': {'duration': 86400},
 'fileToken': {'duration': 180},
 'verificationTemplate': {'subject': 'Verify your {APP_NAME} email',
                          'body': '<p>Hello,</p>\n'
                                  '<p>Thank you for joining us at {APP_NAME}.</p>\n'
                                  '<p>Click on the button below to verify your email address.</p>\n'
                                  '<p>\n'
                                  '  <a class="btn" '
                                  'href="{APP_URL}/_/#/auth/confirm-verification/{TOKEN}" '
                                  'target="_blank" rel="noopener">Verify</a>\n'
                                  '</p>\n'
                                  "<p><i>If you didn't recently register, please ignore this "
                                  'email.</i></p>\n'
                                  '<p>\n'
                                  '  Thanks,<br/>\n'
                                  '  {APP_NAME} team\n'
                                  '</p>'},
 'resetPasswordTemplate': {'subject': 'Reset your {APP_NAME} password',
                           'body': '<p>Hello,</p>\n'
                                   '<p>Click on the button below to reset your password.</p>\n'
                                   '<p>\n'
                                   '  <a class="btn" '
                                   'href="{APP_URL}/_/#/auth/confirm-password-reset/{TOKEN}" '
                                   'target="_blank" rel="noopener">Reset password</a>\n'
                                   '</p>\n'
                                   "<p><i>If you didn't ask to reset your password, please ignore "
                                   'this email.</i></p>\n'
                                   '<p>\n'
                                   '  Thanks,<br/>\n'
                                   '  {APP_NAME} team\n'
                                   '</p>'},
 'confirmEmailChangeTemplate': {'subject': 'Confirm your {APP_NAME} new email address',
                                'body': '<p>Hello,</p>\n'
                                        '<p>Click on the button below to confirm your new email '
                                        'address.</p>\n'
                                        '<p>\n'
                                        '  <a class="btn" '
                                        'href="{APP_URL}/_/#/auth/confirm-email-change/{TOKEN}" '
                                        'target="_blank" rel="noopener">Confirm new email</a>\n'
                                        '</p>\n'
                                        "<p><i>If you didn't ask to change your email address, "
                                        'please ignore this email.</i></p>\n'
                                        '<p>\n'
                                        '  Thanks,<br/>\n'
                                        '  {APP_NAME} team\n'
                                        '</p>'}}
